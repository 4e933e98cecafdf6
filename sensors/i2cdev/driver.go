package i2cdev

import (
	"fmt"
	"strings"

	"periph.io/x/conn/v3/i2c"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2creg"
)

// Chip describes the driver of one I²C chip for Driver. O is what the
// chip's own options parse to: a pointer (*struct{} when it has none), so
// that every chip shares one instantiation of the generic code (Go compiles
// one copy per shape, and all pointers have one shape), which keeps the
// binary small.
type Chip[O any] struct {
	// Name is the driver's name, which starts its errors ("sht4x").
	Name string
	// Addrs are the addresses the chip can be strapped to; the first is the
	// default of the "address" key.
	Addrs []uint16
	// Options reads the chip's own keys from o, recording mistakes in o
	// (bus and address are read already). nil: the chip has none.
	Options func(o *sensors.Options, spec sensors.Spec) O
	// Quantities lists what a sensor with these options publishes.
	Quantities func(opts O) []sensors.Quantity
	// New makes the sensor. It talks to the chip, and fails when it does
	// not answer: the gateway retries with backoff.
	New func(bus i2c.Bus, addr uint16, opts O) (sensors.Sensor, error)
}

// Driver returns the sensors.Driver of c. Its keys are "bus" (default "1",
// see i2creg.BusOption), "address" (one of c.Addrs) and c's own.
func Driver[O any](c Chip[O]) sensors.Driver {
	parse := func(spec sensors.Spec) (target[O], error) { return c.parse(spec) }
	d := sensors.DriverFunc(parse, func(t target[O], hw sensors.Hardware) (sensors.Sensor, error) {
		b, err := hw.I2C(t.bus)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		return c.New(b, t.addr, t.opts)
	})
	d.Quantities = func(spec sensors.Spec) ([]sensors.Quantity, error) {
		t, err := c.parse(spec)
		if err != nil {
			return nil, err
		}
		return c.Quantities(t.opts), nil
	}
	return d
}

// CheckAddr returns an error unless addr is one of c.Addrs; New functions
// call it before touching the bus.
func (c Chip[O]) CheckAddr(addr uint16) error {
	for _, a := range c.Addrs {
		if a == addr {
			return nil
		}
	}
	return fmt.Errorf("%s: address %#x is not one of %s", c.Name, addr, hexList(c.Addrs))
}

//

// target is where a config entry puts the chip, and its options.
type target[O any] struct {
	bus  string
	addr uint16
	opts O
}

func (c Chip[O]) parse(spec sensors.Spec) (target[O], error) {
	o := &spec.Options
	t := target[O]{bus: i2creg.BusOption(o), addr: c.Addrs[0]}
	if a := o.Int("address", int(c.Addrs[0])); c.CheckAddr(uint16(a)) != nil || a < 0 || a > 0xFFFF {
		o.Errorf("address", "%#x is not an address of the %s: want one of %s", a, c.Name, hexList(c.Addrs))
	} else {
		t.addr = uint16(a)
	}
	if c.Options != nil {
		t.opts = c.Options(o, spec)
	}
	return t, o.Err()
}

func hexList(addrs []uint16) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = fmt.Sprintf("%#x", a)
	}
	return strings.Join(s, ", ")
}
