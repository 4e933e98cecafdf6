// Package hdc302x is the "hdc302x" driver: Texas Instruments HDC3020,
// HDC3021 and HDC3022 temperature and humidity sensors on I²C, read through
// periph.io/x/devices/v3/hdc302x.
//
// periph's driver fits: New starts continuous measurement (here once a
// second, the fastest rate the datasheet advises against self-heating) and
// waits one period; Sense reads the latest measurement (command 0xE0 0x00)
// and checks both words' CRC-8, so a corrupted transfer is an error, never a
// reading; Halt stops continuous measurement. This package adds a context
// checked before every transaction and the driver's options.
//
//	T = -45 + 175 × S_T / 65535 °C        RH = 100 × S_RH / 65535 %
//
// Config keys (beside the common sensor keys):
//
//	bus      "1" or "/dev/i2c-1" (default "1")
//	address  0x44 (default) to 0x47, chosen by ADDR and ADDR1
//
// Example:
//
//	sensors:
//	  - {name: cellar, driver: hdc302x, address: 0x44, interval: 30s}
package hdc302x

import (
	"fmt"

	"periph.io/x/conn/v3/i2c"
	periph "periph.io/x/devices/v3/hdc302x"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// Addrs are the addresses the chip can be strapped to.
var Addrs = []uint16{0x44, 0x45, 0x46, 0x47}

// Dev is one HDC302x on an I²C bus. Sense returns temperature (°C) and
// humidity (%); Halt stops continuous measurement.
type Dev struct {
	*i2cdev.EnvSensor
}

var _ sensors.Sensor = (*Dev)(nil)

// New starts continuous measurement, once a second, on the chip at addr on
// bus, and waits for the first one (1 s). Dev does not own bus.
func New(bus i2c.Bus, addr uint16) (*Dev, error) {
	if err := chip().CheckAddr(addr); err != nil {
		return nil, err
	}
	cb := &i2cdev.CtxBus{Bus: bus}
	dev, err := periph.NewI2C(cb, addr, periph.RateHertz)
	if err != nil {
		return nil, fmt.Errorf("hdc302x: no answer at %s(%#x): %w", bus, addr, err)
	}
	return &Dev{i2cdev.NewEnvSensor("hdc302x", cb, addr, dev.Sense, true, dev.Halt)}, nil
}

// Driver returns the "hdc302x" driver for a sensors.Registry.
func Driver() sensors.Driver { return i2cdev.Driver(chip()) }

//

func chip() i2cdev.Chip[*struct{}] {
	return i2cdev.Chip[*struct{}]{
		Name:  "hdc302x",
		Addrs: Addrs,
		Quantities: func(*struct{}) []sensors.Quantity {
			return []sensors.Quantity{{Name: "temperature", Unit: "°C"}, {Name: "humidity", Unit: "%"}}
		},
		New: func(bus i2c.Bus, addr uint16, _ *struct{}) (sensors.Sensor, error) { return New(bus, addr) },
	}
}
