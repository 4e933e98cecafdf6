// Package sgp30 is the "sgp30" driver: the Sensirion SGP30 indoor air
// quality sensor on I²C, giving a CO₂ equivalent (eCO₂, ppm) and total
// volatile organic compounds (TVOC, ppb).
//
// periph has an sgp30 package, but it does not fit: its constructor sleeps
// 20 s and starts a goroutine that nothing stops, which logs with the log
// package, and it never checks the answers' CRCs. This package writes the
// command flow from the datasheet (Sensirion SGP30, section 6) on the
// Sensirion framing of package i2cdev.
//
// The chip's baseline compensation needs measure_iaq once a second, whatever
// the publishing interval, so a Dev is a sensors.Watcher: Watch sends
// iaq_init and then measure_iaq every second, checking every CRC, and keeps
// the latest values; Sense returns them. For the first 15 s after iaq_init
// the chip answers fixed values (400 ppm, 0 ppb), which Sense does not
// report: it returns no readings and no error. Sense fails when Watch has
// had no good measurement for 3 s; Watch returns on a bus error and the
// poller restarts it with backoff (iaq_init again: a chip that was
// power-cycled starts over).
//
// Humidity compensation (set_absolute_humidity) and baseline persistence
// are not done.
//
// Config keys (beside the common sensor keys):
//
//	bus      "1" or "/dev/i2c-1" (default "1")
//	address  0x58, the chip's only address (default)
//
// Quantities: eco2 (ppm), tvoc (ppb).
//
// Example:
//
//	sensors:
//	  - {name: air, driver: sgp30, interval: 30s}
package sgp30

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// ErrNoData is returned by Sense when Watch has had no good measurement for
// 3 s (or none yet).
var ErrNoData = errors.New("sgp30: no measurement")

// Addr is the chip's only I²C address.
const Addr = 0x58

// Dev is one SGP30 on an I²C bus.
type Dev struct {
	dev    i2cdev.Dev
	now    func() time.Time
	serial uint64

	mu      sync.Mutex // guards what follows
	halted  bool
	started time.Time // of the last iaq_init
	at      time.Time // of the last good measurement
	eco2    uint16
	tvoc    uint16
	err     error // of the last failed measurement, if later than at
}

var (
	_ sensors.Sensor  = (*Dev)(nil)
	_ sensors.Watcher = (*Dev)(nil)
)

// New reads the chip's serial number at Addr on bus, which fails when it does
// not answer or its CRCs do not match. now tells the time (nil: time.Now).
// Dev does not own bus; Watch starts measuring.
func New(bus i2c.Bus, now func() time.Time) (*Dev, error) {
	d := &Dev{dev: i2cdev.Dev{Bus: bus, Addr: Addr}, now: now}
	if d.now == nil {
		d.now = time.Now
	}
	w, err := d.read(context.Background(), cmdSerial, 3)
	if err != nil {
		return nil, fmt.Errorf("sgp30: no answer at %s: %w", d.dev, err)
	}
	d.serial = uint64(w[0])<<32 | uint64(w[1])<<16 | uint64(w[2])
	return d, nil
}

// String names the chip by its serial number, bus and address.
func (d *Dev) String() string { return fmt.Sprintf("sgp30{%s #%012x}", d.dev, d.serial) }

// Watch initialises the air quality algorithm and measures every second
// until ctx is done (nil) or the bus fails (the error). It never calls emit:
// Sense reports the values at the poll interval.
func (d *Dev) Watch(ctx context.Context, _ func([]sensors.Reading)) error {
	if err := d.dev.Command(ctx, cmdInit); err != nil {
		return d.fail(fmt.Errorf("%s: iaq_init: %w", d, err))
	}
	d.mu.Lock()
	d.started = d.now()
	d.mu.Unlock()
	tick := time.NewTicker(measureEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		w, err := d.read(ctx, cmdMeasure, 2)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return d.fail(fmt.Errorf("%s: measure_iaq: %w", d, err))
		}
		d.mu.Lock()
		d.at, d.eco2, d.tvoc, d.err = d.now(), w[0], w[1], nil
		d.mu.Unlock()
	}
}

// Sense returns the latest eCO₂ (ppm) and TVOC (ppb), stamped with the time
// they were measured; nothing during the 15 s warm-up.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	switch {
	case d.halted:
		return nil, sensors.ErrHalted
	case now.Sub(d.at) > staleAfter || d.at.IsZero():
		if d.err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoData, d.err)
		}
		return nil, fmt.Errorf("%w from %s within %v", ErrNoData, d, staleAfter)
	case d.at.Sub(d.started) < warmUp:
		return nil, nil
	}
	return []sensors.Reading{
		{Quantity: "eco2", Value: float64(d.eco2), Unit: "ppm", Time: d.at},
		{Quantity: "tvoc", Value: float64(d.tvoc), Unit: "ppb", Time: d.at},
	}, nil
}

// Halt makes Sense fail from now on; Watch has returned already (the poller
// calls Halt last). Halt is safe to call twice.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.halted = true
	return nil
}

// Driver returns the "sgp30" driver for a sensors.Registry.
func Driver() sensors.Driver {
	return i2cdev.Driver(i2cdev.Chip[*struct{}]{
		Name:  "sgp30",
		Addrs: []uint16{Addr},
		Quantities: func(*struct{}) []sensors.Quantity {
			return []sensors.Quantity{{Name: "eco2", Unit: "ppm"}, {Name: "tvoc", Unit: "ppb"}}
		},
		New: func(bus i2c.Bus, _ uint16, _ *struct{}) (sensors.Sensor, error) { return New(bus, nil) },
	})
}

//

// Commands (datasheet table 10) with the longest time each needs.
const (
	cmdInit    = 0x2003 // sgp30_iaq_init: 10 ms
	cmdMeasure = 0x2008 // sgp30_measure_iaq: 2 words, 12 ms
	cmdSerial  = 0x3682 // get_serial_id: 3 words, 1 ms

	warmUp     = 15 * time.Second // fixed answers after iaq_init
	staleAfter = 3 * time.Second
)

// Replaced by tests.
var (
	measureEvery = time.Second
	measureWait  = 12 * time.Millisecond
)

// read sends cmd and reads its answer of n words.
func (d *Dev) read(ctx context.Context, cmd uint16, n int) ([]uint16, error) {
	if err := d.dev.Command(ctx, cmd); err != nil {
		return nil, err
	}
	if err := i2cdev.Sleep(ctx, measureWait); err != nil {
		return nil, err
	}
	return d.dev.ReadWords(ctx, n)
}

// fail records err for Sense and returns it.
func (d *Dev) fail(err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
	return err
}
