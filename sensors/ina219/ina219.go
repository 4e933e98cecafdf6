// Package ina219 is the "ina219" driver: the Texas Instruments INA219
// current, voltage and power monitor on I²C, read through
// periph.io/x/devices/v3/ina219.
//
// periph's driver fits: New programs the calibration register from the
// shunt resistance and the largest expected current (current LSB = max
// current / 2¹⁵, calibration = 0.04096 / (current LSB × R_shunt), datasheet
// section 8.5.1) and the configuration register (32 V bus range, ±320 mV
// shunt range, 128-sample averaging, continuous); Sense reads the shunt,
// bus, current and power registers and fails when the bus voltage register
// flags a math overflow. This package adds a context checked before every
// transaction, the options and their checks, and the readings:
//
//	voltage        bus voltage (V+ … GND), V
//	current        A, signed (negative: current flows backwards)
//	power          W
//	shunt_voltage  mV
//
// Config keys (beside the common sensor keys):
//
//	bus          "1" or "/dev/i2c-1" (default "1")
//	address      0x40 (default) to 0x4f, chosen by A1 and A0
//	shunt_ohms   shunt resistance in Ω (default 0.1, as on most breakouts)
//	max_current  largest current to measure in A (default 3.2); with the
//	             shunt it must fit the ±320 mV shunt range, and be at least
//	             0.02048 V / shunt_ohms (the calibration register is 16 bits)
//
// Example:
//
//	sensors:
//	  - {name: solar, driver: ina219, address: 0x40, shunt_ohms: 0.1, max_current: 2, interval: 10s}
package ina219

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	periph "periph.io/x/devices/v3/ina219"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// Opts configures a Dev.
type Opts struct {
	ShuntOhms  float64 // shunt resistance in Ω; 0 means 0.1
	MaxCurrent float64 // largest current to measure in A; 0 means 3.2
}

// Dev is one INA219 on an I²C bus.
type Dev struct {
	bus   *i2cdev.CtxBus // Ctx guarded by guard
	addr  uint16
	dev   *periph.Dev
	guard sensors.Guard
}

var _ sensors.Sensor = (*Dev)(nil)

// New calibrates and configures the chip at addr on bus, which fails when
// it does not answer or opts do not fit its registers. Dev does not own bus.
func New(bus i2c.Bus, addr uint16, opts Opts) (*Dev, error) {
	if err := chip().CheckAddr(addr); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if err := opts.check(); err != nil {
		return nil, fmt.Errorf("ina219: %w", err)
	}
	d := &Dev{bus: &i2cdev.CtxBus{Bus: bus}, addr: addr}
	dev, err := periph.New(d.bus, &periph.Opts{
		Address:       int(addr),
		SenseResistor: physic.ElectricResistance(opts.ShuntOhms * float64(physic.Ohm)),
		MaxCurrent:    physic.ElectricCurrent(opts.MaxCurrent * float64(physic.Ampere)),
	})
	if err != nil {
		return nil, fmt.Errorf("ina219: %s: init: %w", d, err)
	}
	d.dev = dev
	return d, nil
}

// String names the bus and address, e.g. "ina219{/dev/i2c-1(0x40)}".
func (d *Dev) String() string { return fmt.Sprintf("ina219{%s(%#x)}", d.bus, d.addr) }

// Sense reads bus voltage (V), current (A), power (W) and shunt voltage (mV).
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	rs, err := d.guard.Sense(ctx, func() ([]sensors.Reading, error) {
		return d.bus.Bind(ctx, d.read)
	})
	if err != nil {
		return nil, fmt.Errorf("ina219: %s: sense: %w", d, err)
	}
	return rs, nil
}

// read reads the chip through periph.
func (d *Dev) read() ([]sensors.Reading, error) {
	pm, err := d.dev.Sense()
	if err != nil {
		return nil, err
	}
	return []sensors.Reading{
		{Quantity: "voltage", Value: float64(pm.Voltage) / float64(physic.Volt), Unit: "V"},
		{Quantity: "current", Value: float64(pm.Current) / float64(physic.Ampere), Unit: "A"},
		{Quantity: "power", Value: float64(pm.Power) / float64(physic.Watt), Unit: "W"},
		{Quantity: "shunt_voltage", Value: float64(pm.Shunt) / float64(physic.MilliVolt), Unit: "mV"},
	}, nil
}

// Halt stops further reads; the chip keeps converting (1 mA). Halt is safe
// to call twice.
func (d *Dev) Halt() error { return d.guard.Halt(nil) }

// Driver returns the "ina219" driver for a sensors.Registry.
func Driver() sensors.Driver { return i2cdev.Driver(chip()) }

//

// Limits of the chip's registers (datasheet section 8.5.1).
const (
	maxShuntVolts = 0.32    // PGA /8 range
	minShuntVolts = 0.02048 // calibration = 0.04096 / (max/2¹⁵ × R) must stay below 2¹⁶
)

func (o Opts) withDefaults() Opts {
	if o.ShuntOhms == 0 {
		o.ShuntOhms = 0.1
	}
	if o.MaxCurrent == 0 {
		o.MaxCurrent = 3.2
	}
	return o
}

// check reports options the chip cannot be calibrated for.
func (o Opts) check() error {
	if o.ShuntOhms < 0 || o.MaxCurrent < 0 {
		return fmt.Errorf("shunt_ohms and max_current must be positive, got %v Ω, %v A", o.ShuntOhms, o.MaxCurrent)
	}
	v := o.ShuntOhms * o.MaxCurrent
	if v > maxShuntVolts*(1+1e-9) {
		return fmt.Errorf("%v A through %v Ω is %.3f V, beyond the ±0.32 V shunt range", o.MaxCurrent, o.ShuntOhms, v)
	}
	if v < minShuntVolts*(1-1e-9) {
		return fmt.Errorf("%v A through %v Ω is %.5f V, below the 0.02048 V the 16-bit calibration register can scale: raise max_current", o.MaxCurrent, o.ShuntOhms, v)
	}
	return nil
}

func chip() i2cdev.Chip[*Opts] {
	addrs := make([]uint16, 16)
	for i := range addrs {
		addrs[i] = 0x40 + uint16(i)
	}
	return i2cdev.Chip[*Opts]{
		Name:  "ina219",
		Addrs: addrs,
		Options: func(o *sensors.Options, _ sensors.Spec) *Opts {
			opts := &Opts{ShuntOhms: o.Float("shunt_ohms", 0.1), MaxCurrent: o.Float("max_current", 3.2)}
			if err := opts.withDefaults().check(); err != nil {
				key := "max_current"
				if !o.Has(key) {
					key = "shunt_ohms"
				}
				o.Errorf(key, "%v", err)
			}
			return opts
		},
		Quantities: func(*Opts) []sensors.Quantity {
			return []sensors.Quantity{{Name: "voltage", Unit: "V"}, {Name: "current", Unit: "A"}, {Name: "power", Unit: "W"}, {Name: "shunt_voltage", Unit: "mV"}}
		},
		New: func(bus i2c.Bus, addr uint16, o *Opts) (sensors.Sensor, error) { return New(bus, addr, *o) },
	}
}
