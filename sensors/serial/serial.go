package serial

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/sensors"
)

// Errors of Sense and Watch.
var (
	// ErrNoData means no line with readings arrived within MaxAge (or ever)
	// before Sense's ctx expired.
	ErrNoData = errors.New("serial: no data")

	// ErrWatching is returned by a second concurrent Watch: one goroutine
	// owns the port.
	ErrWatching = errors.New("serial: already watching")
)

// Formats are the accepted values of Opts.Format.
var Formats = []string{"json", "regex", "nmea"}

// Opts configures a Dev.
type Opts struct {
	// Port names the port in errors (the device path, usually).
	Port string
	// Format is "json" (the default when empty), "regex" or "nmea".
	Format string
	// Pattern is the regular expression of format regex; each named group
	// is a quantity.
	Pattern string
	// MaxAge is how old the newest value of a quantity may be for Sense to
	// return it. 0 means no limit.
	MaxAge time.Duration
	// ReadTimeout bounds one Read, hence how soon Watch notices its ctx is
	// done. Default 200ms.
	ReadTimeout time.Duration
	// Reopen spaces the attempts to (re)open the port. Zero: 500ms doubling
	// to 30s.
	Reopen sensors.Backoff
	// Now stamps lines. Default time.Now.
	Now func() time.Time
	// Logger receives port events at Info/Warn and skipped lines at Debug.
	// nil discards.
	Logger *slog.Logger
}

// Stats count what Watch read since the Dev was made.
type Stats struct {
	Lines       uint64 // non-empty lines read
	Parsed      uint64 // lines that gave readings
	Garbage     uint64 // lines that could not be parsed (including overlong ones)
	BadChecksum uint64 // NMEA sentences whose checksum did not match
	Ignored     uint64 // well-formed lines with nothing to report (other NMEA sentences, RMC without a fix)
	Opens       uint64 // successful opens of the port
	PortErrors  uint64 // failed opens plus reads that lost the port
}

// Dev is a line-oriented serial sensor. Sense and Watch may run
// concurrently; Halt is idempotent.
type Dev struct {
	open        func() (sensors.SerialPort, error)
	port        string
	parser      parser
	maxAge      time.Duration
	readTimeout time.Duration
	reopen      sensors.Backoff
	now         func() time.Time
	log         *slog.Logger

	watching atomic.Bool
	stats    counters

	mu      sync.Mutex
	known   map[string]bool            // every quantity admitted so far (at most maxQuantities)
	latest  map[string]sensors.Reading // by quantity, since the port was opened
	portErr error                      // non-nil while the port is down
	changed chan struct{}              // closed and replaced on every change of the above
}

var (
	_ sensors.Sensor  = (*Dev)(nil)
	_ sensors.Watcher = (*Dev)(nil)
)

// New returns a Dev that opens its port with open (Hardware.Serial in the
// gateway). It starts nothing: Watch opens and reads the port.
func New(open func() (sensors.SerialPort, error), opts *Opts) (*Dev, error) {
	if open == nil {
		return nil, errors.New("serial: nil open function")
	}
	p, err := newParser(opts.Format, opts.Pattern)
	if err != nil {
		return nil, err
	}
	d := &Dev{
		open:        open,
		port:        opts.Port,
		parser:      p,
		maxAge:      opts.MaxAge,
		readTimeout: opts.ReadTimeout,
		reopen:      opts.Reopen,
		now:         opts.Now,
		log:         opts.Logger,
		known:       map[string]bool{},
		latest:      map[string]sensors.Reading{},
		changed:     make(chan struct{}),
	}
	d.setDefaults()
	return d, nil
}

// Sense returns the latest value of each quantity seen within MaxAge,
// sorted by quantity. It fails at once while the port is down, and waits
// for a line while nothing is fresh, failing with ErrNoData when ctx ends.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	for {
		rs, err, wait := d.snapshot()
		if wait == nil {
			return rs, err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, d.noData()
		}
	}
}

// Watch reads the port until ctx is done, calling emit with each line's
// readings, and reopening the port with backoff whenever it fails. It
// returns nil once ctx is done.
func (d *Dev) Watch(ctx context.Context, emit func([]sensors.Reading)) error {
	if !d.watching.CompareAndSwap(false, true) {
		return ErrWatching
	}
	defer d.watching.Store(false)
	retry := d.reopen
	for ctx.Err() == nil {
		port, err := d.open()
		if err != nil {
			d.stats.portErrors.Add(1)
			d.setDown(fmt.Errorf("serial: open %s: %w", d.port, err))
			sensors.Sleep(ctx, retry.Next())
			continue
		}
		d.stats.opens.Add(1)
		d.setUp()
		err = d.readLines(ctx, port, emit, &retry)
		port.Close()
		if ctx.Err() != nil {
			break
		}
		d.stats.portErrors.Add(1)
		d.setDown(fmt.Errorf("serial: %s: %w", d.port, err))
		sensors.Sleep(ctx, retry.Next())
	}
	return nil
}

// Halt does nothing beyond what Watch's ctx already does: Watch closes the
// port when it returns.
func (d *Dev) Halt() error { return nil }

// Stats returns a snapshot of the counters.
func (d *Dev) Stats() Stats { return d.stats.snapshot() }

// String names the device for logs.
func (d *Dev) String() string { return "serial(" + d.port + ")" }

//

func (d *Dev) setDefaults() {
	if d.readTimeout <= 0 {
		d.readTimeout = 200 * time.Millisecond
	}
	if d.reopen.Min <= 0 && d.reopen.Max <= 0 {
		d.reopen = sensors.Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second}
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
}

// snapshot returns Sense's answer, or a channel to wait on when there is
// none yet.
func (d *Dev) snapshot() (rs []sensors.Reading, err error, wait <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.portErr != nil {
		return nil, d.portErr, nil
	}
	now := d.now()
	for _, r := range d.latest {
		if d.maxAge <= 0 || now.Sub(r.Time) <= d.maxAge {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return nil, nil, d.changed
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Quantity < rs[j].Quantity })
	return rs, nil, nil
}

func (d *Dev) noData() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.portErr != nil {
		return d.portErr
	}
	var newest time.Time
	for _, r := range d.latest {
		if r.Time.After(newest) {
			newest = r.Time
		}
	}
	if newest.IsZero() {
		return fmt.Errorf("%w from %s yet", ErrNoData, d.port)
	}
	return fmt.Errorf("%w from %s for %v", ErrNoData, d.port, d.now().Sub(newest).Round(time.Millisecond))
}

// maxQuantities bounds the distinct quantities one Dev reports, so that a
// device printing ever-new JSON keys cannot grow memory and topics forever.
const maxQuantities = 256

// update records a line's readings for Sense and returns those it admits:
// quantities beyond the first maxQuantities are dropped.
func (d *Dev) update(rs []sensors.Reading) []sensors.Reading {
	d.mu.Lock()
	defer d.mu.Unlock()
	kept := rs[:0]
	for _, r := range rs {
		if !d.known[r.Quantity] {
			if len(d.known) >= maxQuantities {
				continue
			}
			d.known[r.Quantity] = true
		}
		d.latest[r.Quantity] = r
		kept = append(kept, r)
	}
	d.notify()
	return kept
}

// setUp marks the port open, forgetting values from before.
func (d *Dev) setUp() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.portErr != nil {
		d.log.Info(sensors.MsgAvailable, "port", d.port)
	}
	d.portErr = nil
	clear(d.latest)
	d.notify()
}

// setDown marks the port failed with err.
func (d *Dev) setDown(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.portErr == nil {
		d.log.Warn(sensors.MsgUnavailable, "port", d.port, "err", err)
	}
	d.portErr = err
	clear(d.latest)
	d.notify()
}

// notify wakes waiting Sense calls; d.mu is held.
func (d *Dev) notify() {
	close(d.changed)
	d.changed = make(chan struct{})
}

type counters struct {
	lines, parsed, garbage, badChecksum, ignored, opens, portErrors atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Lines:       c.lines.Load(),
		Parsed:      c.parsed.Load(),
		Garbage:     c.garbage.Load(),
		BadChecksum: c.badChecksum.Load(),
		Ignored:     c.ignored.Load(),
		Opens:       c.opens.Load(),
		PortErrors:  c.portErrors.Load(),
	}
}
