// Package bh1750 is the "bh1750" driver: the ROHM BH1750FVI ambient light
// sensor on I²C, in lux.
//
// periph has a bh1750 package, but it does not fit: its Halt sends Reset
// (0x07) instead of Power Down (0x00), its high-resolution mode 2 result is
// not halved, and each read re-sends the measurement command. The chip is a
// handful of one-byte opcodes, written here from the datasheet (ROHM
// BH1750FVI, "Instruction Set Architecture" and "Measurement sequence
// example").
//
// Each Sense starts a one-time measurement (after which the chip powers down
// by itself), waits the mode's maximum measurement time, and reads the
// 16-bit result:
//
//	lux = result / 1.2            resolution high (1 lx, 180 ms) or low (4 lx, 24 ms)
//	lux = result / 1.2 / 2        resolution high2 (0.5 lx, 180 ms)
//
// Config keys (beside the common sensor keys):
//
//	bus         "1" or "/dev/i2c-1" (default "1")
//	address     0x23 (default, ADDR low) or 0x5c (ADDR high)
//	resolution  high (default), high2 or low
//
// Example:
//
//	sensors:
//	  - {name: window, driver: bh1750, address: 0x23, interval: 10s}
package bh1750

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// Addresses the chip answers on, chosen by its ADDR pin.
const (
	AddrLow  = 0x23 // ADDR to ground; the usual breakout default
	AddrHigh = 0x5C // ADDR to VCC
)

// Resolutions is what the "resolution" key accepts.
var Resolutions = []string{"high", "high2", "low"}

// Dev is one BH1750 on an I²C bus.
type Dev struct {
	dev   i2cdev.Dev
	mode  mode
	guard sensors.Guard
}

var _ sensors.Sensor = (*Dev)(nil)

// New powers the chip on at addr on bus, which fails when it does not answer.
// resolution is one of Resolutions; "" means high. Dev does not own bus.
func New(bus i2c.Bus, addr uint16, resolution string) (*Dev, error) {
	if err := chip().CheckAddr(addr); err != nil {
		return nil, err
	}
	if resolution == "" {
		resolution = "high"
	}
	m, ok := modes[resolution]
	if !ok {
		return nil, fmt.Errorf("bh1750: unknown resolution %q", resolution)
	}
	d := &Dev{dev: i2cdev.Dev{Bus: bus, Addr: addr}, mode: m}
	if err := d.dev.Write(context.Background(), opPowerOn); err != nil {
		return nil, fmt.Errorf("bh1750: no answer at %s: %w", d.dev, err)
	}
	return d, nil
}

// String names the bus and address, e.g. "bh1750{/dev/i2c-1(0x23)}".
func (d *Dev) String() string { return fmt.Sprintf("bh1750{%s}", d.dev) }

// Sense measures once and returns the illuminance in lux.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	rs, err := d.guard.Sense(ctx, func() ([]sensors.Reading, error) {
		if err := d.dev.Write(ctx, d.mode.op); err != nil {
			return nil, err
		}
		if err := i2cdev.Sleep(ctx, d.mode.wait); err != nil {
			return nil, err
		}
		var b [2]byte
		if err := d.dev.Tx(ctx, nil, b[:]); err != nil {
			return nil, err
		}
		lux := float64(binary.BigEndian.Uint16(b[:])) / 1.2 / d.mode.div
		return []sensors.Reading{{Quantity: "illuminance", Value: lux, Unit: "lx"}}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("bh1750: %s: measure: %w", d, err)
	}
	return rs, nil
}

// Halt powers the chip down. Halt is safe to call twice.
func (d *Dev) Halt() error {
	return d.guard.Halt(func() error {
		if err := d.dev.Write(context.Background(), opPowerDown); err != nil {
			return fmt.Errorf("bh1750: %s: power down: %w", d, err)
		}
		return nil
	})
}

// Driver returns the "bh1750" driver for a sensors.Registry.
func Driver() sensors.Driver { return i2cdev.Driver(chip()) }

//

// Opcodes (datasheet, "Instruction Set Architecture").
const (
	opPowerDown = 0x00
	opPowerOn   = 0x01
)

// mode is a one-time measurement: its opcode, maximum measurement time and
// the divisor of its result beyond 1.2.
type mode struct {
	op   byte
	wait time.Duration
	div  float64
}

var modes = map[string]mode{
	"high":  {op: 0x20, wait: 180 * time.Millisecond, div: 1},
	"high2": {op: 0x21, wait: 180 * time.Millisecond, div: 2},
	"low":   {op: 0x23, wait: 24 * time.Millisecond, div: 1},
}

func chip() i2cdev.Chip[*string] {
	return i2cdev.Chip[*string]{
		Name:  "bh1750",
		Addrs: []uint16{AddrLow, AddrHigh},
		Options: func(o *sensors.Options, _ sensors.Spec) *string {
			res := o.OneOf("resolution", "high", Resolutions...)
			return &res
		},
		Quantities: func(*string) []sensors.Quantity { return []sensors.Quantity{{Name: "illuminance", Unit: "lx"}} },
		New: func(bus i2c.Bus, addr uint16, res *string) (sensors.Sensor, error) {
			return New(bus, addr, *res)
		},
	}
}
