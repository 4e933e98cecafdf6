package sht

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// Model is a chip family this package drives.
type Model struct {
	name    string
	addrs   []uint16
	key     string // option naming the measurement command: repeatability or precision
	measure map[string]command
	probe   command // a command answering one word or more, to check the chip is there
	rh      func(s uint16) float64
}

// The supported families.
var (
	// SHT3x is the SHT30, SHT31 and SHT35 (datasheet "SHT3x-DIS", section 4).
	SHT3x = &Model{
		name: "sht3x", addrs: []uint16{0x44, 0x45}, key: "repeatability",
		measure: map[string]command{ // single shot, clock stretching disabled (table 9)
			"high":   {code: 0x2400, wait: 16 * time.Millisecond, words: 2},
			"medium": {code: 0x240B, wait: 7 * time.Millisecond, words: 2},
			"low":    {code: 0x2416, wait: 5 * time.Millisecond, words: 2},
		},
		probe: command{code: 0xF32D, wait: time.Millisecond, words: 1}, // read status register
		rh:    func(s uint16) float64 { return 100 * float64(s) / 65535 },
	}
	// SHT4x is the SHT40, SHT41, SHT43 and SHT45 (datasheet "SHT4x", section 4).
	SHT4x = &Model{
		name: "sht4x", addrs: []uint16{0x44, 0x45, 0x46}, key: "precision",
		measure: map[string]command{ // measure T & RH, no heater (table 7)
			"high":   {code: 0xFD, short: true, wait: 9 * time.Millisecond, words: 2},
			"medium": {code: 0xF6, short: true, wait: 5 * time.Millisecond, words: 2},
			"low":    {code: 0xE0, short: true, wait: 2 * time.Millisecond, words: 2},
		},
		probe: command{code: 0x89, short: true, wait: time.Millisecond, words: 2}, // read serial number
		rh:    func(s uint16) float64 { return min(max(-6+125*float64(s)/65535, 0), 100) },
	}
)

// String returns the model's driver name.
func (m *Model) String() string { return m.name }

// Dev is one SHT3x or SHT4x on an I²C bus.
type Dev struct {
	model *Model
	dev   i2cdev.Dev
	cmd   command
	guard sensors.Guard
}

var _ sensors.Sensor = (*Dev)(nil)

// New checks addr, then that the chip answers (with valid CRCs) at addr on
// bus. mode is the repeatability (SHT3x) or precision (SHT4x): "high",
// "medium" or "low"; "" means high. Dev does not own bus.
func New(bus i2c.Bus, addr uint16, m *Model, mode string) (*Dev, error) {
	if err := m.chip().CheckAddr(addr); err != nil {
		return nil, err
	}
	if mode == "" {
		mode = "high"
	}
	cmd, ok := m.measure[mode]
	if !ok {
		return nil, fmt.Errorf("%s: unknown %s %q", m, m.key, mode)
	}
	d := &Dev{model: m, dev: i2cdev.Dev{Bus: bus, Addr: addr}, cmd: cmd}
	if _, err := d.run(context.Background(), m.probe); err != nil {
		return nil, fmt.Errorf("%s: no answer at %s: %w", m, d.dev, err)
	}
	return d, nil
}

// String names the chip, bus and address, e.g. "sht4x{/dev/i2c-1(0x44)}".
func (d *Dev) String() string { return fmt.Sprintf("%s{%s}", d.model, d.dev) }

// Sense measures once and returns temperature (°C) and humidity (%).
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	rs, err := d.guard.Sense(ctx, func() ([]sensors.Reading, error) {
		w, err := d.run(ctx, d.cmd)
		if err != nil {
			return nil, err
		}
		return []sensors.Reading{
			{Quantity: "temperature", Value: -45 + 175*float64(w[0])/65535, Unit: "°C"},
			{Quantity: "humidity", Value: d.model.rh(w[1]), Unit: "%"},
		}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: measure: %w", d, err)
	}
	return rs, nil
}

// Halt stops further measurements. The chip idles between single-shot
// measurements already, so nothing is sent. Halt is safe to call twice.
func (d *Dev) Halt() error { return d.guard.Halt(nil) }

// Driver returns the driver of m, to register as m.String().
func Driver(m *Model) sensors.Driver { return i2cdev.Driver(m.chip()) }

//

// command is one command of the chip and what it answers.
type command struct {
	code  uint16
	short bool // an 8-bit command (SHT4x)
	wait  time.Duration
	words int
}

// run sends c, waits for it, and reads its answer's words.
func (d *Dev) run(ctx context.Context, c command) ([]uint16, error) {
	var err error
	if c.short {
		err = d.dev.Write(ctx, byte(c.code))
	} else {
		err = d.dev.Command(ctx, c.code)
	}
	if err != nil {
		return nil, err
	}
	if err := i2cdev.Sleep(ctx, c.wait); err != nil {
		return nil, err
	}
	return d.dev.ReadWords(ctx, c.words)
}

var quantities = []sensors.Quantity{{Name: "temperature", Unit: "°C"}, {Name: "humidity", Unit: "%"}}

func (m *Model) chip() i2cdev.Chip[*string] {
	return i2cdev.Chip[*string]{
		Name:  m.name,
		Addrs: m.addrs,
		Options: func(o *sensors.Options, _ sensors.Spec) *string {
			mode := o.OneOf(m.key, "high", "high", "medium", "low")
			return &mode
		},
		Quantities: func(*string) []sensors.Quantity { return quantities },
		New: func(bus i2c.Bus, addr uint16, mode *string) (sensors.Sensor, error) {
			return New(bus, addr, m, *mode)
		},
	}
}
