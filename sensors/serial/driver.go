package serial

import (
	"runtime"
	"strings"

	bugst "go.bug.st/serial"

	"github.com/edgegw/edgegw/sensors"
)

// Driver returns the "serial" driver for a sensors.Registry. Open asks the
// Hardware for the port only when Watch runs, and again after each failure.
func Driver() sensors.Driver {
	return sensors.DriverFunc(parse, func(c config, hw sensors.Hardware) (sensors.Sensor, error) {
		return New(func() (sensors.SerialPort, error) { return hw.Serial(c.opts.Port, c.mode) }, &c.opts)
	})
}

//

var (
	parities = map[string]bugst.Parity{
		"none": bugst.NoParity, "odd": bugst.OddParity, "even": bugst.EvenParity,
		"mark": bugst.MarkParity, "space": bugst.SpaceParity,
	}
	stopBits = map[string]bugst.StopBits{
		"1": bugst.OneStopBit, "1.5": bugst.OnePointFiveStopBits, "2": bugst.TwoStopBits,
	}
)

// config is what a serial config entry asks for: the driver's options and
// how to set up the port.
type config struct {
	opts Opts
	mode *bugst.Mode
}

// parse reads the driver keys of spec; errors carry file:line.
func parse(spec sensors.Spec) (config, error) {
	o := spec.Options
	o.Required("port", spec.Line)
	opts := Opts{
		Port:    o.String("port", ""),
		Format:  o.OneOf("format", "json", Formats...),
		Pattern: o.String("pattern", ""),
		MaxAge:  o.Duration("max_age", 3*spec.Interval),
	}
	stop := o.OneOf("stop_bits", "1", "1", "1.5", "2")
	mode := &bugst.Mode{
		BaudRate: o.Int("baud", 9600),
		DataBits: o.Int("data_bits", 8),
		Parity:   parities[o.OneOf("parity", "none", "none", "odd", "even", "mark", "space")],
		StopBits: stopBits[stop],
	}
	if stop == "1.5" && runtime.GOOS == "linux" {
		o.Errorf("stop_bits", "1.5 is not supported on Linux (termios has only 1 or 2); use 1 or 2")
	}
	if o.Has("port") && opts.Port == "" {
		o.Errorf("port", "must not be empty")
	}
	if mode.BaudRate <= 0 {
		o.Errorf("baud", "must be positive, got %d", mode.BaudRate)
	}
	if mode.DataBits < 5 || mode.DataBits > 8 {
		o.Errorf("data_bits", "must be 5 to 8, got %d", mode.DataBits)
	}
	if opts.Format == "regex" && !o.Has("pattern") {
		o.Required("pattern", spec.Line)
	} else if _, err := newParser(opts.Format, opts.Pattern); err != nil {
		o.Errorf("pattern", "%s", strings.TrimPrefix(err.Error(), "serial: "))
	}
	return config{opts: opts, mode: mode}, o.Err()
}
