package modbus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mb "github.com/simonvetter/modbus"

	"github.com/edgegw/edgegw/sensors"
)

// Errors of New.
var (
	// ErrBadURL means Opts.URL is not tcp://host[:port],
	// rtuovertcp://host:port or rtu:///dev/….
	ErrBadURL = errors.New("modbus: bad url")
	// ErrNoPoints means Opts.Points is empty.
	ErrNoPoints = errors.New("modbus: no points")
)

// RequestError is a read request that failed: the device answered with a
// Modbus exception (match the client library's error with errors.Is, e.g.
// github.com/simonvetter/modbus.ErrIllegalDataAddress; see Exception), or
// the exchange itself failed (timeout, connection lost, bad CRC).
type RequestError struct {
	Unit    uint8
	Request string // "holding 0-9"
	Err     error
}

// Error reads "modbus: unit 1, holding 0-9: illegal data address".
func (e *RequestError) Error() string {
	return fmt.Sprintf("modbus: unit %d, %s: %v", e.Unit, e.Request, e.Err)
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// Exception reports whether err holds a Modbus exception response (the
// device is there and refused the request), as opposed to a failed exchange.
func Exception(err error) bool {
	for _, x := range exceptions {
		if errors.Is(err, x) {
			return true
		}
	}
	return false
}

// Schemes of Opts.URL.
const (
	SchemeTCP        = "tcp"        // Modbus TCP: tcp://host[:502]
	SchemeRTU        = "rtu"        // Modbus RTU on a serial port: rtu:///dev/ttyUSB0
	SchemeRTUOverTCP = "rtuovertcp" // RTU frames through a TCP serial server: rtuovertcp://host:port
)

// DefaultPort is Modbus TCP's port, used when a tcp:// URL names none.
const DefaultPort = "502"

// Opts configure a Dev.
type Opts struct {
	// URL is the device's connection: tcp://host[:502],
	// rtuovertcp://host:port or rtu:///dev/ttyUSB0. Required.
	URL string
	// UnitID is the slave (unit) id the requests go to: 1–247 on a serial
	// line (0 is broadcast, which no slave answers); over TCP 0–255 (many
	// devices answer 0, 1 or 255).
	UnitID uint8
	// Baud, Parity ("none", "even", "odd") and StopBits (1 or 2) set up a
	// serial line (rtu only). Defaults 9600, "none", and 2 stop bits
	// without parity, 1 with (the Modbus serial line specification).
	Baud     int
	Parity   string
	StopBits int
	// RequestTimeout bounds each request's answer. Default 1s.
	RequestTimeout time.Duration
	// MaxGap is how many unused registers (or bits) a request may read
	// and discard to take two points in one request. Default 0: only
	// adjacent and overlapping points share a request (some devices answer
	// exception 2 for registers they do not have).
	MaxGap int
	// Points are the values read, each published as a quantity. Required;
	// quantities unique.
	Points []Point
	// Logger receives the client library's messages at Debug. nil
	// discards them.
	Logger *slog.Logger
}

// Stats count a Dev's requests since New.
type Stats struct {
	Connects   uint64 // connections (or serial ports) opened
	Requests   uint64 // read requests sent
	Exceptions uint64 // requests answered with a Modbus exception
	Failures   uint64 // requests or connects that failed otherwise (timeout, connection lost, …)
	Writes     uint64 // write requests sent (SetQuantity)
}

// Dev reads one Modbus device (one unit id). Sense and Halt are not safe
// for concurrent use (the poller never makes such calls); Devs sharing a
// line may be used concurrently.
type Dev struct {
	opts     Opts
	reqs     []*request
	pool     *pool
	line     *line
	haltOnce sync.Once

	connects, requests, exceptions, failures, writes atomic.Uint64
}

var _ sensors.Sensor = (*Dev)(nil)

// New returns a reader of the device opts describe, on a connection or
// serial port of its own. It checks opts and plans the requests but touches
// no device or network: a device missing now is an error of Sense, so the
// gateway starts and reads it once it is back.
func New(opts *Opts) (*Dev, error) { return newDev(opts, &pool{}) }

// newDev is New with the line taken from p.
func newDev(opts *Opts, p *pool) (*Dev, error) {
	o := *opts
	o.Points = append([]Point(nil), opts.Points...)
	setDefaults(&o)
	scheme, host, err := parseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if err := checkPoints(o.Points); err != nil {
		return nil, err
	}
	if err := checkLine(scheme, &o); err != nil {
		return nil, err
	}
	l, err := p.get(&o, host)
	if err != nil {
		return nil, err
	}
	return &Dev{opts: o, reqs: plan(o.Points, o.MaxGap), pool: p, line: l}, nil
}

// Sense reads every point, in as few requests as the plan has, and returns
// the readings it got together with the errors of the requests that failed
// (*RequestError). An exception fails only its request; a failed exchange
// ends the Sense and closes the connection (but for a timeout on a serial
// line, which leaves the port to the other units), and the next Sense
// reconnects. It waits for the line while another Dev's Sense holds it;
// ctx bounds that wait and is checked between requests; one request waits
// at most RequestTimeout.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	if err := d.line.acquire(ctx); err != nil {
		return nil, err
	}
	defer d.line.release()
	if err := d.connect(ctx); err != nil {
		return nil, err
	}
	var rs []sensors.Reading
	var errs []error
	for _, r := range d.reqs {
		if err := ctx.Err(); err != nil {
			return rs, errors.Join(append(errs, err)...)
		}
		got, err := d.read(r)
		rs = append(rs, got...)
		if err == nil {
			continue
		}
		errs = append(errs, &RequestError{Unit: d.opts.UnitID, Request: r.String(), Err: err})
		if Exception(err) {
			continue
		}
		if d.line.host != "" || !errors.Is(err, mb.ErrRequestTimedOut) {
			d.line.close() // a serial port stays open for the other units when one is silent
		}
		break
	}
	return rs, errors.Join(errs...)
}

// Halt gives the line back: the last Dev using a connection or serial port
// closes it. It is safe to call twice.
func (d *Dev) Halt() error {
	d.haltOnce.Do(func() { d.pool.put(d.line) })
	return nil
}

// Stats returns the request counters.
func (d *Dev) Stats() Stats {
	return Stats{Connects: d.connects.Load(), Requests: d.requests.Load(),
		Exceptions: d.exceptions.Load(), Failures: d.failures.Load(), Writes: d.writes.Load()}
}

// String names the device for logs: "modbus(tcp://plc:502 unit 1)".
func (d *Dev) String() string { return fmt.Sprintf("modbus(%s unit %d)", d.opts.URL, d.opts.UnitID) }

//

var (
	parities = map[string]uint{"none": mb.PARITY_NONE, "even": mb.PARITY_EVEN, "odd": mb.PARITY_ODD}

	// exceptions are the library's errors for exception codes 1–11.
	exceptions = []error{
		mb.ErrIllegalFunction, mb.ErrIllegalDataAddress, mb.ErrIllegalDataValue,
		mb.ErrServerDeviceFailure, mb.ErrAcknowledge, mb.ErrServerDeviceBusy,
		mb.ErrMemoryParityError, mb.ErrGWPathUnavailable, mb.ErrGWTargetFailedToRespond,
	}
)

func setDefaults(o *Opts) {
	for i := range o.Points {
		p := &o.Points[i]
		if p.Table == "" {
			p.Table = Holding
		}
		if p.Type == "" && p.Table.bits() {
			p.Type = Bool
		} else if p.Type == "" {
			p.Type = Uint16
		}
	}
	if o.Baud <= 0 {
		o.Baud = 9600
	}
	if o.Parity == "" {
		o.Parity = "none"
	}
	if o.StopBits == 0 {
		o.StopBits = 1
		if o.Parity == "none" {
			o.StopBits = 2
		}
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = time.Second
	}
	if u, err := url.Parse(o.URL); err == nil && u.Scheme == SchemeTCP && u.Port() == "" && u.Host != "" {
		o.URL = SchemeTCP + "://" + net.JoinHostPort(u.Hostname(), DefaultPort)
	}
}

// parseURL checks a connection URL and returns its scheme and, for the TCP
// schemes, host:port.
func parseURL(s string) (scheme, host string, err error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", "", fmt.Errorf("%w %q: %v", ErrBadURL, s, err)
	case u.Scheme == SchemeRTU:
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return "", "", fmt.Errorf("%w %q: want rtu:// and the device's absolute path, like rtu:///dev/ttyUSB0", ErrBadURL, s)
		}
		return u.Scheme, "", nil
	case u.Scheme == SchemeTCP || u.Scheme == SchemeRTUOverTCP:
		if u.Hostname() == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
			return "", "", fmt.Errorf("%w %q: want %s://host:port", ErrBadURL, s, u.Scheme)
		}
		return u.Scheme, u.Host, nil
	}
	return "", "", fmt.Errorf("%w %q: want tcp://host:502, rtu:///dev/ttyUSB0 or rtuovertcp://host:port", ErrBadURL, s)
}

// checkLine returns the first problem of a serial line's settings.
func checkLine(scheme string, o *Opts) error {
	_, parity := parities[o.Parity]
	switch {
	case scheme != SchemeRTU:
		return nil
	case o.UnitID < 1 || o.UnitID > 247:
		return fmt.Errorf("modbus: unit id %d is outside 1…247 (a serial line)", o.UnitID)
	case !parity:
		return fmt.Errorf("modbus: parity %q is not none, even or odd", o.Parity)
	case o.StopBits != 1 && o.StopBits != 2:
		return fmt.Errorf("modbus: %d stop bits (want 1 or 2)", o.StopBits)
	}
	return nil
}

// checkPoints returns the first problem of points: none, a quantity that
// cannot be a topic level or is used twice, a type that does not suit its
// table, or registers past address 65535.
func checkPoints(points []Point) error {
	if len(points) == 0 {
		return ErrNoPoints
	}
	seen := map[string]bool{}
	for _, p := range points {
		switch {
		case sensors.ValidQuantity(p.Quantity) != nil:
			return fmt.Errorf("modbus: %w", sensors.ValidQuantity(p.Quantity))
		case seen[p.Quantity]:
			return fmt.Errorf("modbus: quantity %q used twice", p.Quantity)
		case !slices.Contains(Tables, string(p.Table)):
			return fmt.Errorf("modbus: %v: unknown table (want one of %v)", &p, Tables)
		case !slices.Contains(RegisterTypes, string(p.Type)) && p.Type != Bool:
			return fmt.Errorf("modbus: %v: unknown type (want bool or one of %v)", &p, RegisterTypes)
		case p.Table.bits() != (p.Type == Bool):
			return fmt.Errorf("modbus: %v: type %s does not suit table %s", &p, p.Type, p.Table)
		case p.end() > 1<<16:
			return fmt.Errorf("modbus: %v: ends past address 65535", &p)
		case p.Writable && p.Table != Holding && p.Table != Coil:
			return fmt.Errorf("modbus: %v: only holding registers and coils can be writable", &p)
		}
		seen[p.Quantity] = true
	}
	return nil
}

// libLogger adapts l for the client library, which writes to stdout when
// given no logger.
func libLogger(l *slog.Logger) *log.Logger {
	if l == nil {
		return log.New(io.Discard, "", 0)
	}
	return slog.NewLogLogger(l.Handler(), slog.LevelDebug)
}

// connect opens the line unless it is open, and sets the unit id; the line
// is held.
func (d *Dev) connect(ctx context.Context) error {
	opened, err := d.line.connect(ctx)
	if err != nil {
		d.failures.Add(1)
		return err
	}
	if opened {
		d.connects.Add(1)
	}
	if err := d.line.client.SetUnitId(d.opts.UnitID); err != nil {
		return fmt.Errorf("modbus: unit %d: %w", d.opts.UnitID, err)
	}
	return nil
}

// unwrapOp drops the *net.OpError around a dial error, whose text repeats
// the address the caller names.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// read runs one request and decodes its points.
func (d *Dev) read(r *request) ([]sensors.Reading, error) {
	d.requests.Add(1)
	var rs []sensors.Reading
	var err error
	if r.table.bits() {
		rs, err = d.readBits(r)
	} else {
		rs, err = d.readRegisters(r)
	}
	switch {
	case err == nil:
	case Exception(err):
		d.exceptions.Add(1)
	default:
		d.failures.Add(1)
	}
	return rs, err
}

func (d *Dev) readRegisters(r *request) ([]sensors.Reading, error) {
	t := mb.HOLDING_REGISTER
	if r.table == Input {
		t = mb.INPUT_REGISTER
	}
	b, err := d.line.client.ReadRawBytes(r.start, 2*r.count, t)
	if err != nil {
		return nil, err
	}
	rs := make([]sensors.Reading, 0, len(r.points))
	for _, p := range r.points {
		i := 2 * int(p.Address-r.start)
		rs = append(rs, reading(p, p.decode(b[i:i+2*p.Type.Words()])))
	}
	return rs, nil
}

func (d *Dev) readBits(r *request) ([]sensors.Reading, error) {
	read := d.line.client.ReadCoils
	if r.table == Discrete {
		read = d.line.client.ReadDiscreteInputs
	}
	bits, err := read(r.start, r.count)
	if err != nil {
		return nil, err
	}
	rs := make([]sensors.Reading, 0, len(r.points))
	for _, p := range r.points {
		v := 0.0
		if bits[p.Address-r.start] {
			v = 1
		}
		rs = append(rs, reading(p, p.scale(v)))
	}
	return rs, nil
}

func reading(p *Point, v float64) sensors.Reading {
	return sensors.Reading{Quantity: p.Quantity, Value: v, Unit: p.Unit}
}
