package modbus

import (
	"errors"
	"math"
	"strings"
	"time"

	"github.com/edgegw/edgegw/sensors"
)

// Driver returns the "modbus" driver for a sensors.Registry. Its sensors
// with the same address or port share one connection or serial port (see
// the package documentation): several unit ids on one RS485 line.
func Driver() sensors.Driver {
	p := &pool{}
	return sensors.OptsDriver(parse, func(o *Opts) (*Dev, error) { return newDev(o, p) }, quantities)
}

// quantities lists the points' quantities and units, for announcing the
// sensor before the device answers; coils and discrete inputs are binary;
// writable holding registers carry their range and step.
func quantities(opts Opts) []sensors.Quantity {
	qs := make([]sensors.Quantity, 0, len(opts.Points))
	for _, p := range opts.Points {
		q := sensors.Quantity{Name: p.Quantity, Unit: p.Unit, Binary: p.Type == Bool, Writable: p.Writable}
		if p.Writable && p.Table == Holding {
			lo, hi := p.valueRange()
			q.Min, q.Max = tidy(lo), tidy(hi)
			q.Step = math.Abs(p.scaleOr1())
			if p.Type == Float32 || p.Type == Float64 {
				q.Step = floatStep
			}
		}
		qs = append(qs, q)
	}
	return qs
}

//

// floatStep is the step announced for a writable float register: the
// finest Home Assistant's number entity takes (its default, 1, would allow
// whole numbers only).
const floatStep = 0.001

// defaultRequestTimeout is request_timeout's default (never above the
// sensor's own timeout).
const defaultRequestTimeout = time.Second

// parse reads the driver keys of spec, reporting every bad one with its line.
func parse(spec sensors.Spec) (Opts, error) {
	o := spec.Options
	url, cerr := connection(&o, spec.Line)
	opts := Opts{URL: url}
	serial := strings.HasPrefix(opts.URL, SchemeRTU+"://")
	opts.UnitID = uint8(unitID(&o, serial))
	parseLine(&o, &opts, serial)
	opts.RequestTimeout = o.Duration("request_timeout", min(defaultRequestTimeout, positive(spec.Timeout)))
	if opts.RequestTimeout <= 0 || spec.Timeout > 0 && opts.RequestTimeout > spec.Timeout {
		o.Errorf("request_timeout", "%v must be more than 0 and at most the sensor's timeout (%v): a poll waits for its requests", opts.RequestTimeout, spec.Timeout)
	}
	opts.MaxGap = o.Int("max_gap", 0)
	if opts.MaxGap < 0 || opts.MaxGap >= MaxRegisters {
		o.Errorf("max_gap", "%d is outside 0…%d", opts.MaxGap, MaxRegisters-1)
	}
	points, perr := parsePoints(&o, spec.Line)
	opts.Points = points
	return opts, errors.Join(cerr, o.Err(), perr)
}

// connection reads address (tcp://…, rtuovertcp://…, rtu://…) or port (a
// serial device) and returns the connection URL; the error is for neither
// given.
func connection(o *sensors.Options, line int) (string, error) {
	addr, port := o.String("address", ""), o.String("port", "")
	switch {
	case o.Has("address") && o.Has("port"):
		o.Errorf("port", "give either address (tcp://host:502) or port (a serial device), not both")
		return "", nil
	case o.Has("port"):
		if !strings.HasPrefix(port, "/") {
			o.Errorf("port", "want the serial device's absolute path, like /dev/ttyUSB0, got %q", port)
		}
		return SchemeRTU + "://" + port, nil
	case o.Has("address"):
		probe := Opts{URL: addr}
		setDefaults(&probe)
		if _, _, err := parseURL(probe.URL); err != nil {
			o.Errorf("address", "%s", strings.TrimPrefix(err.Error(), "modbus: "))
		}
		return addr, nil
	}
	return "", &sensors.OptionError{File: o.File, Line: line, Key: o.KeyPath("address"),
		Msg: "missing: give address (tcp://host:502) or port (a serial device, like /dev/ttyUSB0)"}
}

// unitID reads unit_id: 1–247 on a serial line, 0–255 over TCP.
func unitID(o *sensors.Options, serial bool) int {
	id := o.Int("unit_id", 1)
	lo, hi := 0, 255
	if serial {
		lo, hi = 1, 247
	}
	if id < lo || id > hi {
		o.Errorf("unit_id", "%d is outside %d…%d", id, lo, hi)
		return 1
	}
	return id
}

// parseLine reads the serial line's settings, which only a serial port takes.
func parseLine(o *sensors.Options, opts *Opts, serial bool) {
	opts.Baud = o.Int("baud", 9600)
	opts.Parity = o.OneOf("parity", "none", "none", "even", "odd")
	def := "2"
	if opts.Parity != "none" {
		def = "1"
	}
	opts.StopBits = map[string]int{"1": 1, "2": 2}[o.OneOf("stop_bits", def, "1", "2")]
	for _, k := range []string{"baud", "parity", "stop_bits"} {
		if !serial && o.Has(k) && o.Has("address") {
			o.Errorf(k, "only a serial line (port: /dev/…) takes %s", k)
		}
	}
	if opts.Baud <= 0 {
		o.Errorf("baud", "must be positive, got %d", opts.Baud)
	}
}

// positive returns d, or a day for d ≤ 0 (no limit from the sensor).
func positive(d time.Duration) time.Duration {
	if d <= 0 {
		return 24 * time.Hour
	}
	return d
}
