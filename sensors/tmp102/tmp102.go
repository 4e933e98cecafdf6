// Package tmp102 is the "tmp102" driver: the Texas Instruments TMP102
// temperature sensor on I²C (0.0625 °C resolution, ±0.5 °C), read through
// periph.io/x/devices/v3/tmp102.
//
// periph's driver fits: New writes the configuration register (continuous
// conversion at 4 Hz, comparator mode), Sense reads the 12-bit
// two's-complement temperature register (0x00, left-justified). This
// package adds a context checked before every transaction and the driver's
// options. Halt sends nothing: periph's Halt only clears the shutdown bit,
// and the chip draws 10 µA converting.
//
// Config keys (beside the common sensor keys):
//
//	bus      "1" or "/dev/i2c-1" (default "1")
//	address  0x48 (default, ADD0 to GND), 0x49 (V+), 0x4a (SDA) or 0x4b (SCL)
//
// Example:
//
//	sensors:
//	  - {name: rack, driver: tmp102, address: 0x48, interval: 30s}
package tmp102

import (
	"fmt"

	"periph.io/x/conn/v3/i2c"
	periph "periph.io/x/devices/v3/tmp102"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// Addrs are the addresses the chip can be strapped to with ADD0.
var Addrs = []uint16{0x48, 0x49, 0x4A, 0x4B}

// Dev is one TMP102 on an I²C bus. Sense reads the temperature in °C; Halt
// sends nothing.
type Dev struct {
	*i2cdev.EnvSensor
}

var _ sensors.Sensor = (*Dev)(nil)

// New configures the chip at addr on bus (periph's defaults), which fails
// when it does not answer. Dev does not own bus.
func New(bus i2c.Bus, addr uint16) (*Dev, error) {
	if err := chip().CheckAddr(addr); err != nil {
		return nil, err
	}
	cb := &i2cdev.CtxBus{Bus: bus}
	dev, err := periph.NewI2C(cb, addr, nil)
	if err != nil {
		return nil, fmt.Errorf("tmp102: no answer at %s(%#x): %w", bus, addr, err)
	}
	return &Dev{i2cdev.NewEnvSensor("tmp102", cb, addr, dev.Sense, false, nil)}, nil
}

// Driver returns the "tmp102" driver for a sensors.Registry.
func Driver() sensors.Driver { return i2cdev.Driver(chip()) }

//

func chip() i2cdev.Chip[*struct{}] {
	return i2cdev.Chip[*struct{}]{
		Name:       "tmp102",
		Addrs:      Addrs,
		Quantities: func(*struct{}) []sensors.Quantity { return []sensors.Quantity{{Name: "temperature", Unit: "°C"}} },
		New:        func(bus i2c.Bus, addr uint16, _ *struct{}) (sensors.Sensor, error) { return New(bus, addr) },
	}
}
