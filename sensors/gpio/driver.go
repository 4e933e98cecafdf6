package gpio

import (
	"periph.io/x/conn/v3/gpio"

	"github.com/edgegw/edgegw/sensors"
)

// InDriver returns the "gpio_in" driver for a sensors.Registry.
func InDriver() sensors.Driver {
	return pinDriver(parseIn, NewIn)
}

// OutDriver returns the "gpio_out" driver for a sensors.Registry.
func OutDriver() sensors.Driver {
	return pinDriver(parseOut, NewOut)
}

//

// pinSpec is what a gpio config entry asks for: a pin by name, and how to
// use it.
type pinSpec[C any] struct {
	name string
	cfg  C
}

// pinDriver builds a driver that opens the pin parse names and hands it to
// newSensor.
func pinDriver[C any, S sensors.Sensor](
	parse func(sensors.Spec) (pinSpec[C], error),
	newSensor func(gpio.PinIO, C) (S, error),
) sensors.Driver {
	return sensors.DriverFunc(parse, func(p pinSpec[C], hw sensors.Hardware) (sensors.Sensor, error) {
		pin, err := hw.GPIO(p.name)
		if err != nil {
			return nil, err
		}
		return newSensor(pin, p.cfg)
	})
}

var (
	pulls = map[string]gpio.Pull{"none": gpio.Float, "up": gpio.PullUp, "down": gpio.PullDown}
	edges = map[string]gpio.Edge{"both": gpio.BothEdges, "rising": gpio.RisingEdge, "falling": gpio.FallingEdge}
	modes = map[string]Mode{"state": State, "counter": Counter}
)

// parseIn reads a gpio_in entry's keys, reporting every mistake with its
// line.
func parseIn(spec sensors.Spec) (pinSpec[InConfig], error) {
	o := &spec.Options
	name := pinOption(o, spec.Line)
	cfg := InConfig{
		Pull:     pulls[o.OneOf("pull", "none", "none", "up", "down")],
		Edge:     edges[o.OneOf("edge", "both", "both", "rising", "falling")],
		Debounce: o.Duration("debounce", DefaultDebounce),
		Mode:     modes[o.OneOf("mode", "state", "state", "counter")],
	}
	return pinSpec[InConfig]{name: name, cfg: cfg}, o.Err()
}

// parseOut reads a gpio_out entry's keys.
func parseOut(spec sensors.Spec) (pinSpec[OutConfig], error) {
	o := &spec.Options
	name := pinOption(o, spec.Line)
	var cfg OutConfig
	cfg.Initial = levelOption(o, "initial", gpio.Low)
	cfg.Safe = levelOption(o, "safe", cfg.Initial)
	return pinSpec[OutConfig]{name: name, cfg: cfg}, o.Err()
}

// pinOption reads the required "pin" key and checks its shape.
func pinOption(o *sensors.Options, line int) string {
	o.Required("pin", line)
	name := o.String("pin", "")
	if !o.Has("pin") {
		return ""
	}
	if err := ValidatePinName(name); err != nil {
		o.Errorf("pin", "%v", err)
	}
	return name
}

// levelOption reads an on/off key. YAML decodes a bare on/off as a string
// here (yaml v3 follows YAML 1.2) and true/false as a bool; both are taken.
func levelOption(o *sensors.Options, key string, def gpio.Level) gpio.Level {
	if !o.Has(key) {
		return def
	}
	s := o.String(key, levelWord(def))
	level, ok := ParseLevel(s)
	if !ok {
		o.Errorf(key, "%q is not on or off", s)
		return def
	}
	return level
}
