package scd4x

import (
	"context"
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// ErrStale is returned by Sense when the chip has had no measurement ready
// for two periods: it stopped measuring (a power cycle) or hangs.
var ErrStale = errors.New("scd4x: no new measurement")

// Addr is the chip's only I²C address.
const Addr = 0x62

// Opts configures a Dev.
type Opts struct {
	// LowPower selects low power periodic measurement: one every 30 s
	// instead of every 5 s.
	LowPower bool
	// Settings are the calibration and compensation settings New sends
	// (and sends again when the chip was power-cycled).
	Settings Settings
	// CalibrateCommand makes the Dev a sensors.Commander with the command
	// "calibrate" (forced recalibration, see Dev.Calibrate).
	CalibrateCommand bool
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// Dev is one SCD40 or SCD41 on an I²C bus, measuring periodically.
type Dev struct {
	dev     i2cdev.Dev
	start   uint16        // the command starting periodic measurement
	period  time.Duration // between measurements
	now     func() time.Time
	serial  uint64
	guard   sensors.Guard
	last    time.Time // of the last measurement read, or of the start; guarded by guard
	restart bool      // send start again before the next Sense; guarded by guard

	settings     Settings
	calibrateCmd bool
	measuring    time.Time // since when periodic measurement runs; guarded by guard
	persists     int       // persist_settings sent, for tests
}

var (
	_ sensors.Sensor    = (*Dev)(nil)
	_ sensors.Commander = (*Dev)(nil)
)

// New stops any measurement the chip was running, reads its serial number,
// sends opts.Settings (persisting them if asked and needed) and starts
// periodic measurement. It takes about 500 ms (1.3 s when it persists).
// Dev does not own bus.
func New(bus i2c.Bus, opts Opts) (*Dev, error) {
	if err := opts.Settings.Check(); err != nil {
		return nil, err
	}
	d := &Dev{dev: i2cdev.Dev{Bus: bus, Addr: Addr}, start: cmdStart, period: 5 * time.Second, now: opts.Now,
		settings: opts.Settings, calibrateCmd: opts.CalibrateCommand}
	if opts.LowPower {
		d.start, d.period = cmdStartLowPower, 30*time.Second
	}
	if d.now == nil {
		d.now = time.Now
	}
	ctx := context.Background()
	if err := d.dev.Command(ctx, cmdStop); err != nil {
		return nil, fmt.Errorf("scd4x: no answer at %s: %w", d.dev, err)
	}
	doSleep(stopDuration)
	w, err := d.read(ctx, cmdSerial, 3)
	if err != nil {
		return nil, fmt.Errorf("scd4x: %s: read serial number: %w", d.dev, err)
	}
	d.serial = uint64(w[0])<<32 | uint64(w[1])<<16 | uint64(w[2])
	if err := d.configure(ctx, opts.Settings.Persist); err != nil {
		return nil, fmt.Errorf("scd4x: %s: %w", d.dev, err)
	}
	if err := d.dev.Command(ctx, d.start); err != nil {
		return nil, fmt.Errorf("scd4x: %s: start periodic measurement: %w", d.dev, err)
	}
	d.last, d.measuring = d.now(), d.now()
	return d, nil
}

// String names the chip by its serial number, bus and address.
func (d *Dev) String() string { return fmt.Sprintf("scd4x{%s #%012x}", d.dev, d.serial) }

// Serial returns the chip's 48-bit serial number.
func (d *Dev) Serial() uint64 { return d.serial }

// Sense waits for the next measurement (until ctx is done) and returns CO₂
// (ppm), temperature (°C) and humidity (%). With nothing new before ctx is
// done it returns no readings, or ErrStale once the last measurement is two
// periods old.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	rs, err := d.guard.Sense(ctx, func() ([]sensors.Reading, error) { return d.sense(ctx) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	return rs, nil
}

// Halt stops periodic measurement. Halt is safe to call twice.
func (d *Dev) Halt() error {
	return d.guard.Halt(func() error {
		if err := d.dev.Command(context.Background(), cmdStop); err != nil {
			return fmt.Errorf("%s: stop periodic measurement: %w", d, err)
		}
		return nil
	})
}

// Driver returns the "scd4x" driver for a sensors.Registry.
func Driver() sensors.Driver {
	return i2cdev.Driver(i2cdev.Chip[*Opts]{
		Name:       "scd4x",
		Addrs:      []uint16{Addr},
		Options:    options,
		Quantities: func(*Opts) []sensors.Quantity { return quantities },
		New:        func(bus i2c.Bus, _ uint16, o *Opts) (sensors.Sensor, error) { return New(bus, *o) },
	})
}

//

// Commands (datasheet section 3.5) and the time each needs before its
// answer can be read.
const (
	cmdStart         = 0x21B1 // start_periodic_measurement
	cmdStartLowPower = 0x21AC // start_low_power_periodic_measurement
	cmdRead          = 0xEC05 // read_measurement: 3 words, 1 ms
	cmdStop          = 0x3F86 // stop_periodic_measurement: 500 ms
	cmdDataReady     = 0xE4B8 // get_data_ready_status: 1 word, 1 ms
	cmdSerial        = 0x3682 // get_serial_number: 3 words, 1 ms

	answerDelay  = time.Millisecond
	stopDuration = 500 * time.Millisecond
)

// Replaced by tests.
var (
	doSleep   = time.Sleep
	sleep     = i2cdev.Sleep // the chip's execution times, unless ctx ends first
	pollEvery = 100 * time.Millisecond
)

var quantities = []sensors.Quantity{{Name: "co2", Unit: "ppm"}, {Name: "temperature", Unit: "°C"}, {Name: "humidity", Unit: "%"}}

func (d *Dev) sense(ctx context.Context) ([]sensors.Reading, error) {
	if d.restart {
		if err := d.restartMeasurement(ctx); err != nil {
			return nil, err
		}
	}
	ready, err := d.waitReady(ctx)
	if err != nil {
		return nil, err
	}
	if !ready {
		if age := d.now().Sub(d.last); age >= 2*d.period {
			d.restart = true
			return nil, fmt.Errorf("%w for %v", ErrStale, age.Round(time.Second))
		}
		return nil, nil // nothing new yet
	}
	w, err := d.read(ctx, cmdRead, 3)
	if err != nil {
		return nil, fmt.Errorf("read measurement: %w", err)
	}
	d.last = d.now()
	return []sensors.Reading{
		{Quantity: "co2", Value: float64(w[0]), Unit: "ppm"},
		{Quantity: "temperature", Value: -45 + 175*float64(w[1])/65536, Unit: "°C"},
		{Quantity: "humidity", Value: 100 * float64(w[2]) / 65536, Unit: "%"},
	}, nil
}

// restartMeasurement stops the chip (a power-cycled one is idle already),
// sends the settings again (a power cycle lost those not persisted) and
// starts periodic measurement.
func (d *Dev) restartMeasurement(ctx context.Context) error {
	if err := d.dev.Command(ctx, cmdStop); err != nil {
		return fmt.Errorf("stop periodic measurement: %w", err)
	}
	if err := sleep(ctx, stopDuration); err != nil {
		return err
	}
	if err := d.configure(ctx, false); err != nil {
		return err
	}
	if err := d.dev.Command(ctx, d.start); err != nil {
		return fmt.Errorf("start periodic measurement: %w", err)
	}
	// Two more periods before the chip counts as stale again: a Sense
	// shorter than the first period must not restart it once more.
	d.restart, d.measuring, d.last = false, d.now(), d.now()
	return nil
}

// waitReady asks get_data_ready_status until a measurement is ready (true)
// or ctx is done (false).
func (d *Dev) waitReady(ctx context.Context) (bool, error) {
	for {
		w, err := d.read(ctx, cmdDataReady, 1)
		if ctx.Err() != nil {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("get data ready status: %w", err)
		}
		if w[0]&0x07FF != 0 { // the 11 low bits all 0: not ready
			return true, nil
		}
		if sleep(ctx, pollEvery) != nil {
			return false, nil
		}
	}
}

// read sends cmd and reads its answer of n words.
func (d *Dev) read(ctx context.Context, cmd uint16, n int) ([]uint16, error) {
	if err := d.dev.Command(ctx, cmd); err != nil {
		return nil, err
	}
	if err := i2cdev.Sleep(ctx, answerDelay); err != nil {
		return nil, err
	}
	return d.dev.ReadWords(ctx, n)
}
