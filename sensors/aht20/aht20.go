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
	"fmt"

	"periph.io/x/conn/v3/i2c"
	periph "periph.io/x/devices/v3/aht20"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// Addr is the AHT20's only I²C address.
const Addr = 0x38

// Dev is one AHT20 on an I²C bus. Sense measures once (about 80 ms) and
// returns temperature (°C) and humidity (%); Halt sends nothing, the chip
// idles between measurements.
type Dev struct {
	*i2cdev.EnvSensor
}

var _ sensors.Sensor = (*Dev)(nil)

// New reads the chip's status at Addr on bus and calibrates it if it asks
// for it. Dev does not own bus.
func New(bus i2c.Bus) (*Dev, error) {
	cb := &i2cdev.CtxBus{Bus: bus}
	opts := periph.DefaultOpts
	dev, err := periph.NewI2C(cb, &opts)
	if err != nil {
		return nil, fmt.Errorf("aht20: no answer at %s(%#x): %w", bus, Addr, err)
	}
	return &Dev{i2cdev.NewEnvSensor("aht20", cb, Addr, dev.Sense, true, nil)}, nil
}

// Driver returns the "aht20" driver for a sensors.Registry.
func Driver() sensors.Driver {
	return i2cdev.Driver(i2cdev.Chip[*struct{}]{
		Name:  "aht20",
		Addrs: []uint16{Addr},
		Quantities: func(*struct{}) []sensors.Quantity {
			return []sensors.Quantity{{Name: "temperature", Unit: "°C"}, {Name: "humidity", Unit: "%"}}
		},
		New: func(bus i2c.Bus, _ uint16, _ *struct{}) (sensors.Sensor, error) { return New(bus) },
	})
}
