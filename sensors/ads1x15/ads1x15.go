package ads1x15

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"periph.io/x/conn/v3/i2c"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// ErrBusy is returned by Sense when a conversion does not finish within
// twice its period: the chip is stuck or not an ADS1x15.
var ErrBusy = errors.New("ads1x15: conversion did not finish")

// Model is a converter this package drives.
type Model struct {
	name  string
	bits  uint  // resolution of the code
	rates []int // data rates in samples per second, by DR field value
	def   int   // default data rate
}

// The supported converters.
var (
	// ADS1115 is the 16-bit converter (datasheet table 8: DR field).
	ADS1115 = &Model{name: "ads1115", bits: 16, rates: []int{8, 16, 32, 64, 128, 250, 475, 860}, def: 128}
	// ADS1015 is the 12-bit converter (DR 111 is 3300 SPS too; 110 is used).
	ADS1015 = &Model{name: "ads1015", bits: 12, rates: []int{128, 250, 490, 920, 1600, 2400, 3300}, def: 1600}
)

// String returns the model's driver name.
func (m *Model) String() string { return m.name }

// Ranges are the full-scale ranges in volts, by PGA field value.
var Ranges = []float64{6.144, 4.096, 2.048, 1.024, 0.512, 0.256}

// Addresses the chip answers on, chosen by the ADDR pin.
var Addrs = []uint16{0x48, 0x49, 0x4A, 0x4B}

// Input is one input to convert: single-ended (AINn against GND) or
// differential (AINp against AINn).
type Input struct {
	Channel int     // 0..3: the positive input, AIN0..AIN3
	Range   float64 // full-scale range in volts, one of Ranges
	// Minus is the negative input: 0 for GND (AIN0 is never a negative
	// input), or 1 or 3 for the pairs the multiplexer has: AIN0−AIN1,
	// AIN0−AIN3, AIN1−AIN3, AIN2−AIN3 (datasheet, Config register MUX).
	Minus int
}

// Name is the quantity the input is published as: ain0..ain3, or
// ain0_ain1, ain0_ain3, ain1_ain3, ain2_ain3 for a differential one.
func (in Input) Name() string {
	if in.Minus == 0 {
		return fmt.Sprintf("ain%d", in.Channel)
	}
	return fmt.Sprintf("ain%d_ain%d", in.Channel, in.Minus)
}

// mux returns the Config register's MUX field for in, or -1 for a pair
// the multiplexer does not have.
func (in Input) mux() int {
	switch {
	case in.Channel < 0 || in.Channel > 3:
		return -1
	case in.Minus == 0:
		return 4 + in.Channel // AINn against GND
	case in.Minus == 1 && in.Channel == 0:
		return 0
	case in.Minus == 3 && in.Channel < 3:
		return 1 + in.Channel // AIN0−AIN3, AIN1−AIN3, AIN2−AIN3
	}
	return -1
}

// Opts configures a Dev.
type Opts struct {
	Inputs   []Input // converted in this order; at least one
	DataRate int     // samples per second; 0 means the model's default
}

// Dev is one ADS1015 or ADS1115 on an I²C bus.
type Dev struct {
	model  *Model
	dev    i2cdev.Dev
	inputs []input
	period time.Duration // of one conversion
	guard  sensors.Guard
}

var _ sensors.Sensor = (*Dev)(nil)

// New checks opts and reads the Config register of the chip at addr on bus,
// which fails when it does not answer. Dev does not own bus.
func New(bus i2c.Bus, addr uint16, m *Model, opts Opts) (*Dev, error) {
	if err := m.chip().CheckAddr(addr); err != nil {
		return nil, err
	}
	d := &Dev{model: m, dev: i2cdev.Dev{Bus: bus, Addr: addr}}
	if err := d.configure(opts); err != nil {
		return nil, err
	}
	if _, err := d.dev.ReadReg16(context.Background(), regConfig); err != nil {
		return nil, fmt.Errorf("%s: no answer at %s: %w", m, d.dev, err)
	}
	return d, nil
}

// String names the chip, bus and address, e.g. "ads1115{/dev/i2c-1(0x48)}".
func (d *Dev) String() string { return fmt.Sprintf("%s{%s}", d.model, d.dev) }

// Sense converts each input in turn and returns their voltages, named as
// Input.Name says, in V.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	rs, err := d.guard.Sense(ctx, func() ([]sensors.Reading, error) {
		rs := make([]sensors.Reading, 0, len(d.inputs))
		for _, in := range d.inputs {
			v, err := d.convert(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", in.name, err)
			}
			rs = append(rs, sensors.Reading{Quantity: in.name, Value: v, Unit: "V"})
		}
		return rs, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: convert %w", d, err)
	}
	return rs, nil
}

// Halt stops further conversions; in single-shot mode the chip powers down
// after each one already. Halt is safe to call twice.
func (d *Dev) Halt() error { return d.guard.Halt(nil) }

// Driver returns the driver of m, to register as m.String().
func Driver(m *Model) sensors.Driver { return i2cdev.Driver(m.chip()) }

//

// Registers and Config fields (datasheet section 9.6).
const (
	regConversion = 0x00
	regConfig     = 0x01

	cfgOS         = 1 << 15 // write: start a conversion; read: 1 = idle
	cfgSingleShot = 1 << 8
	cfgCompOff    = 0b11 // COMP_QUE: comparator disabled
)

// input is an Input with its Config word and quantity name.
type input struct {
	name   string
	config uint16
	fsr    float64
}

// configure checks opts and builds each input's Config word.
func (d *Dev) configure(opts Opts) error {
	rate := opts.DataRate
	if rate == 0 {
		rate = d.model.def
	}
	dr := slices.Index(d.model.rates, rate)
	if dr < 0 {
		return fmt.Errorf("%s: data rate %d is not one of %v", d.model, rate, d.model.rates)
	}
	if len(opts.Inputs) == 0 {
		return fmt.Errorf("%s: no input to convert", d.model)
	}
	// One period, 10 % slower than nominal (datasheet: data rate ±10 %),
	// plus the wake-up time.
	d.period = time.Duration(1.1*float64(time.Second)/float64(rate)) + 100*time.Microsecond
	for _, in := range opts.Inputs {
		pga, mux := rangeIndex(in.Range), in.mux()
		if mux < 0 || pga < 0 {
			return fmt.Errorf("%s: bad input %+v (want channel 0..3 against GND, or the pairs 0−1, 0−3, 1−3, 2−3; range one of %v)", d.model, in, Ranges)
		}
		cfg := cfgOS | uint16(mux)<<12 | uint16(pga)<<9 | cfgSingleShot | uint16(dr)<<5 | cfgCompOff
		d.inputs = append(d.inputs, input{name: in.Name(), config: cfg, fsr: in.Range})
	}
	return nil
}

// convert runs one single-shot conversion of in and returns its voltage.
func (d *Dev) convert(ctx context.Context, in input) (float64, error) {
	if err := d.dev.WriteReg16(ctx, regConfig, in.config); err != nil {
		return 0, fmt.Errorf("start: %w", err)
	}
	if err := d.waitIdle(ctx); err != nil {
		return 0, err
	}
	raw, err := d.dev.ReadReg16(ctx, regConversion)
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	code := int16(raw) >> (16 - d.model.bits) // sign-preserving
	return float64(code) * in.fsr / float64(int(1)<<(d.model.bits-1)), nil
}

// waitIdle waits one period, then polls Config until OS reads 1, for at
// most another period.
func (d *Dev) waitIdle(ctx context.Context) error {
	if err := i2cdev.Sleep(ctx, d.period); err != nil {
		return err
	}
	poll := max(d.period/8, 200*time.Microsecond)
	for range 9 {
		cfg, err := d.dev.ReadReg16(ctx, regConfig)
		if err != nil {
			return fmt.Errorf("poll: %w", err)
		}
		if cfg&cfgOS != 0 {
			return nil
		}
		if err := i2cdev.Sleep(ctx, poll); err != nil {
			return err
		}
	}
	return ErrBusy
}

func rangeIndex(v float64) int {
	for i, r := range Ranges {
		if math.Abs(v-r) < 1e-9 {
			return i
		}
	}
	return -1
}
