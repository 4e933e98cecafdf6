// Package mcp9808 is the "mcp9808" driver: the Microchip MCP9808 digital
// temperature sensor on I²C (±0.25 °C typical), read through
// periph.io/x/devices/v3/mcp9808.
//
// periph's driver fits: it sets the 0.0625 °C resolution, enables continuous
// conversion and decodes the 13-bit two's-complement ambient temperature
// register (0x05). This package adds a check of the manufacturer (register
// 0x06 = 0x0054) and device (register 0x07, upper byte 0x04) ids before
// periph writes anything, a context checked before every transaction, and
// the driver's options. Halt puts the chip in shutdown (periph's Halt).
//
// Config keys (beside the common sensor keys):
//
//	bus      "1" or "/dev/i2c-1" (default "1")
//	address  0x18 (default, A2..A0 to GND) to 0x1f
//
// Example:
//
//	sensors:
//	  - {name: freezer, driver: mcp9808, address: 0x18, interval: 30s}
package mcp9808

import (
	"context"
	"errors"
	"fmt"

	"periph.io/x/conn/v3/i2c"
	periph "periph.io/x/devices/v3/mcp9808"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// ErrWrongChip is returned by New when the id registers name another chip.
var ErrWrongChip = errors.New("mcp9808: wrong chip")

// Addrs are the addresses the chip can be strapped to with A2..A0.
var Addrs = []uint16{0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F}

// Dev is one MCP9808 on an I²C bus. Sense reads the ambient temperature in
// °C; Halt puts the chip in shutdown.
type Dev struct {
	*i2cdev.EnvSensor
}

var _ sensors.Sensor = (*Dev)(nil)

// New checks the chip's ids at addr on bus, then lets periph set its
// resolution and enable it. Dev does not own bus.
func New(bus i2c.Bus, addr uint16) (*Dev, error) {
	if err := chip().CheckAddr(addr); err != nil {
		return nil, err
	}
	cb := &i2cdev.CtxBus{Bus: bus}
	if err := checkID(i2cdev.Dev{Bus: bus, Addr: addr}); err != nil {
		return nil, err
	}
	dev, err := periph.New(cb, &periph.Opts{Addr: int(addr), Res: periph.Maximum})
	if err != nil {
		return nil, fmt.Errorf("mcp9808: %s: init: %w", cb, err)
	}
	return &Dev{i2cdev.NewEnvSensor("mcp9808", cb, addr, dev.Sense, false, dev.Halt)}, nil
}

// Driver returns the "mcp9808" driver for a sensors.Registry.
func Driver() sensors.Driver { return i2cdev.Driver(chip()) }

//

// Id registers and values (datasheet section 5.1.5 and 5.1.6).
const (
	regManufacturer = 0x06
	regDevice       = 0x07
	manufacturerID  = 0x0054
	deviceID        = 0x04 // upper byte of regDevice; the lower is the revision
)

func checkID(dev i2cdev.Dev) error {
	m, err := dev.ReadReg16(context.Background(), regManufacturer)
	if err != nil {
		return fmt.Errorf("mcp9808: no answer at %s: %w", dev, err)
	}
	id, err := dev.ReadReg16(context.Background(), regDevice)
	if err != nil {
		return fmt.Errorf("mcp9808: no answer at %s: %w", dev, err)
	}
	if m != manufacturerID || id>>8 != deviceID {
		return fmt.Errorf("%w at %s: manufacturer id 0x%04x, device id 0x%02x (want 0x%04x, 0x%02x)", ErrWrongChip, dev, m, id>>8, manufacturerID, deviceID)
	}
	return nil
}

func chip() i2cdev.Chip[*struct{}] {
	return i2cdev.Chip[*struct{}]{
		Name:       "mcp9808",
		Addrs:      Addrs,
		Quantities: func(*struct{}) []sensors.Quantity { return []sensors.Quantity{{Name: "temperature", Unit: "°C"}} },
		New:        func(bus i2c.Bus, addr uint16, _ *struct{}) (sensors.Sensor, error) { return New(bus, addr) },
	}
}
