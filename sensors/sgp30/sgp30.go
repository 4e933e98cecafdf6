package sgp30

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// ErrNoData is returned by Sense when Watch has had no good measurement for
// 3 s (or none yet).
var ErrNoData = errors.New("sgp30: no measurement")

// Addr is the chip's only I²C address.
const Addr = 0x58

// Opts configures a Dev. The zero value measures without humidity
// compensation and without keeping the baseline.
type Opts struct {
	// Now tells the time; nil means time.Now.
	Now func() time.Time
	// AbsoluteHumidity, in g/m³, is a fixed humidity to compensate for
	// (see AbsoluteHumidity); 0 means none.
	AbsoluteHumidity float64
	// Companion is the topic of a sensor publishing "temperature" and
	// "humidity" to compensate for (the Dev is then a sensors.Follower);
	// "" means none. Readings older than 10 minutes turn compensation off.
	Companion string
	// BaselineDir is where the baseline is kept (BaselinePath); "" means
	// it is not kept.
	BaselineDir string
	// BaselineEvery is how often the baseline is saved; default 1 h.
	BaselineEvery time.Duration
}

// Dev is one SGP30 on an I²C bus.
type Dev struct {
	dev           i2cdev.Dev
	now           func() time.Time
	serial        uint64
	fixedAH       float64
	companion     string
	baselineFile  string
	baselineEvery time.Duration

	mu      sync.Mutex // guards what follows
	halted  bool
	started time.Time // of the last iaq_init
	at      time.Time // of the last good measurement
	eco2    uint16
	tvoc    uint16
	err     error // of the last failed measurement, if later than at
	saveErr error // of the last baseline write
	saves   int   // baseline files written
	temp    float64
	tempAt  time.Time // of the companion's last temperature
	rh      float64
	rhAt    time.Time // of the companion's last humidity
	sentAH  int       // the last set_absolute_humidity word sent since iaq_init, -1 none
}

var (
	_ sensors.Sensor   = (*Dev)(nil)
	_ sensors.Watcher  = (*Dev)(nil)
	_ sensors.Follower = (*Dev)(nil)
)

// New reads the chip's serial number at Addr on bus, which fails when it does
// not answer or its CRCs do not match. Dev does not own bus; Watch starts
// measuring.
func New(bus i2c.Bus, opts Opts) (*Dev, error) {
	d := &Dev{dev: i2cdev.Dev{Bus: bus, Addr: Addr}, now: opts.Now, fixedAH: opts.AbsoluteHumidity,
		companion: opts.Companion, baselineEvery: opts.BaselineEvery, sentAH: -1}
	if d.now == nil {
		d.now = time.Now
	}
	if d.baselineEvery <= 0 {
		d.baselineEvery = time.Hour
	}
	w, err := d.read(context.Background(), cmdSerial, 3)
	if err != nil {
		return nil, fmt.Errorf("sgp30: no answer at %s: %w", d.dev, err)
	}
	d.serial = uint64(w[0])<<32 | uint64(w[1])<<16 | uint64(w[2])
	if opts.BaselineDir != "" {
		d.baselineFile = BaselinePath(opts.BaselineDir, d.serial)
	}
	return d, nil
}

// String names the chip by its serial number, bus and address.
func (d *Dev) String() string { return fmt.Sprintf("sgp30{%s #%012x}", d.dev, d.serial) }

// Watch initialises the air quality algorithm, restores the stored
// baseline, and measures every second until ctx is done (nil) or the bus
// fails (the error), sending the absolute humidity whenever it changes and
// saving the baseline when it is due. It never calls emit: Sense reports
// the values at the poll interval.
func (d *Dev) Watch(ctx context.Context, _ func([]sensors.Reading)) error {
	if err := d.dev.Command(ctx, cmdInit); err != nil {
		return d.fail(fmt.Errorf("%s: iaq_init: %w", d, err))
	}
	if err := i2cdev.Sleep(ctx, measureWait); err != nil {
		return nil
	}
	d.mu.Lock()
	d.started, d.sentAH = d.now(), -1
	d.mu.Unlock()
	restored, err := d.restoreBaseline(ctx)
	if err != nil {
		return d.fail(fmt.Errorf("%s: %w", d, err))
	}
	var saved time.Time
	tick := time.NewTicker(measureEvery)
	defer tick.Stop()
	for {
		if err := d.compensate(ctx); err != nil {
			return d.watchErr(ctx, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		w, err := d.read(ctx, cmdMeasure, 2)
		if err != nil {
			return d.watchErr(ctx, fmt.Errorf("measure_iaq: %w", err))
		}
		d.mu.Lock()
		d.at, d.eco2, d.tvoc, d.err = d.now(), w[0], w[1], nil
		d.mu.Unlock()
		if saved, err = d.saveBaseline(ctx, restored, saved); err != nil {
			return d.watchErr(ctx, err)
		}
	}
}

// Sense returns the latest eCO₂ (ppm) and TVOC (ppb), stamped with the time
// they were measured; nothing during the 15 s warm-up. When the last
// baseline write failed it returns the readings and that error.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	switch {
	case d.halted:
		return nil, sensors.ErrHalted
	case now.Sub(d.at) > staleAfter || d.at.IsZero():
		if d.err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoData, d.err)
		}
		return nil, fmt.Errorf("%w from %s within %v", ErrNoData, d, staleAfter)
	case d.at.Sub(d.started) < warmUp:
		return nil, nil
	}
	rs := []sensors.Reading{
		{Quantity: "eco2", Value: float64(d.eco2), Unit: "ppm", Time: d.at},
		{Quantity: "tvoc", Value: float64(d.tvoc), Unit: "ppb", Time: d.at},
	}
	if d.saveErr != nil {
		return rs, fmt.Errorf("%w: %w", ErrBaselineSave, d.saveErr)
	}
	return rs, nil
}

// Halt makes Sense fail from now on; Watch has returned already (the poller
// calls Halt last). Halt is safe to call twice.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.halted = true
	return nil
}

//

// Commands (datasheet table 10) with the longest time each needs.
const (
	cmdInit        = 0x2003 // sgp30_iaq_init: 10 ms
	cmdMeasure     = 0x2008 // sgp30_measure_iaq: 2 words, 12 ms
	cmdGetBaseline = 0x2015 // sgp30_get_iaq_baseline: 2 words (eCO₂, TVOC), 10 ms
	cmdSetBaseline = 0x201E // sgp30_set_iaq_baseline: 2 words (TVOC, eCO₂), 10 ms
	cmdSetHumidity = 0x2061 // sgp30_set_absolute_humidity: 1 word, 10 ms
	cmdSerial      = 0x3682 // get_serial_id: 3 words, 1 ms

	warmUp     = 15 * time.Second // fixed answers after iaq_init
	staleAfter = 3 * time.Second
)

// Replaced by tests.
var (
	measureEvery = time.Second
	measureWait  = 12 * time.Millisecond
)

// compensate sends set_absolute_humidity when compensation is configured
// and its word changed since iaq_init (0 when the companion went quiet).
func (d *Dev) compensate(ctx context.Context) error {
	w, configured := d.humidityWord()
	d.mu.Lock()
	same := d.sentAH == int(w)
	d.mu.Unlock()
	if !configured || same {
		return nil
	}
	if err := d.dev.Command(ctx, cmdSetHumidity, w); err != nil {
		return fmt.Errorf("set_absolute_humidity: %w", err)
	}
	d.mu.Lock()
	d.sentAH = int(w)
	d.mu.Unlock()
	return i2cdev.Sleep(ctx, measureWait)
}

// read sends cmd and reads its answer of n words.
func (d *Dev) read(ctx context.Context, cmd uint16, n int) ([]uint16, error) {
	if err := d.dev.Command(ctx, cmd); err != nil {
		return nil, err
	}
	if err := i2cdev.Sleep(ctx, measureWait); err != nil {
		return nil, err
	}
	return d.dev.ReadWords(ctx, n)
}

// watchErr ends Watch: nil when ctx is done (the error is cancellation's),
// else err, recorded for Sense.
func (d *Dev) watchErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return d.fail(fmt.Errorf("%s: %w", d, err))
}

// fail records err for Sense and returns it.
func (d *Dev) fail(err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
	return err
}
