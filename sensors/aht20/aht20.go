// Package aht20 is the "aht20" driver: the Aosong AHT20 temperature and
// humidity sensor on I²C, read through periph.io/x/devices/v3/aht20.
//
// periph's driver fits: it calibrates the chip when its status says it is
// not, triggers a measurement (command 0xAC 0x33 0x00), waits 80 ms, polls
// while the busy bit is set (up to 150 ms more) and checks the answer's
// CRC-8 (polynomial 0x31, initial 0xFF). This package adds what the gateway
// needs around it: a context checked before every transaction, readings in
// °C and %, a Halt, and the driver's options.
//
//	RH = S_RH / 2²⁰ × 100 %        T = S_T / 2²⁰ × 200 − 50 °C
//
// A corrupted answer is an error (matching *aht20.DataCorruptionError of
// periph), never a reading.
//
// Config keys (beside the common sensor keys):
//
//	bus      "1" or "/dev/i2c-1" (default "1")
//	address  0x38, the chip's only address (default)
//
// Example:
//
//	sensors:
//	  - {name: attic, driver: aht20, interval: 30s}
package aht20

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	periph "periph.io/x/devices/v3/aht20"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// Addr is the AHT20's only I²C address.
const Addr = 0x38

// Dev is one AHT20 on an I²C bus.
type Dev struct {
	bus   *i2cdev.CtxBus // Ctx guarded by guard
	dev   *periph.Dev
	guard sensors.Guard
}

var _ sensors.Sensor = (*Dev)(nil)

// New reads the chip's status at Addr on bus and calibrates it if it asks
// for it. Dev does not own bus.
func New(bus i2c.Bus) (*Dev, error) {
	d := &Dev{bus: &i2cdev.CtxBus{Bus: bus}}
	opts := periph.DefaultOpts
	dev, err := periph.NewI2C(d.bus, &opts)
	if err != nil {
		return nil, fmt.Errorf("aht20: no answer at %s: %w", d, err)
	}
	d.dev = dev
	return d, nil
}

// String names the bus and address, e.g. "aht20{/dev/i2c-1(0x38)}".
func (d *Dev) String() string { return fmt.Sprintf("aht20{%s(%#x)}", d.bus, Addr) }

// Sense measures once (about 80 ms) and returns temperature (°C) and
// humidity (%).
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	rs, err := d.guard.Sense(ctx, func() ([]sensors.Reading, error) {
		d.bus.Ctx = ctx
		defer func() { d.bus.Ctx = nil }()
		var e physic.Env
		if err := d.dev.Sense(&e); err != nil {
			return nil, err
		}
		return []sensors.Reading{
			{Quantity: "temperature", Value: e.Temperature.Celsius(), Unit: "°C"},
			{Quantity: "humidity", Value: float64(e.Humidity) / float64(physic.PercentRH), Unit: "%"},
		}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("aht20: %s: sense: %w", d, err)
	}
	return rs, nil
}

// Halt stops further measurements; the chip idles between them already.
// Halt is safe to call twice.
func (d *Dev) Halt() error { return d.guard.Halt(nil) }

// Driver returns the "aht20" driver for a sensors.Registry.
func Driver() sensors.Driver {
	return i2cdev.Driver(i2cdev.Chip[struct{}]{
		Name:  "aht20",
		Addrs: []uint16{Addr},
		Quantities: func(struct{}) []sensors.Quantity {
			return []sensors.Quantity{{Name: "temperature", Unit: "°C"}, {Name: "humidity", Unit: "%"}}
		},
		New: func(bus i2c.Bus, _ uint16, _ struct{}) (sensors.Sensor, error) { return New(bus) },
	})
}
