// Package sim is a simulated sensor: deterministic waveforms for demos and
// tests, no hardware.
//
// Each quantity follows the chosen waveform over Period, scaled into a range
// that suits its name (temperature 15–25 °C, humidity 30–70 %, pressure
// 990–1030 hPa, voltage 11.5–12.8 V, current 0–2 A, power 0–500 W, co2
// 400–1200 ppm, lux 0–1000 lx; any other name 0–1 with no unit). The value
// depends only on the seed, the quantity's position and the time, so two
// gateways with the same config agree, and a test can inject the clock.
// Quantities are offset in phase from one another by the seed. Values are
// rounded to 2 decimals, as a real sensor's resolution would.
//
// Config keys (beside the common ones):
//
//	quantities: [temperature, humidity]   # default [temperature]
//	waveform: sine                        # sine | square | sawtooth | random
//	period: 60s                           # one cycle; for random, 8 points per period, linearly joined
//	seed: 0                               # any integer
package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/edgegw/edgegw/sensors"
)

// Waveforms are the accepted values of Opts.Waveform.
var Waveforms = []string{"sine", "square", "sawtooth", "random"}

// Opts configures a simulated sensor.
type Opts struct {
	Quantities []string         // names, each a valid quantity; at least one
	Waveform   string           // one of Waveforms; "" means sine
	Period     time.Duration    // length of one cycle; 0 means 60s
	Seed       int64            // selects the phases (and the random walk)
	Now        func() time.Time // clock; nil means time.Now
}

// DefaultOpts is one temperature on a 60 s sine, seed 0.
var DefaultOpts = Opts{Quantities: []string{"temperature"}, Waveform: "sine", Period: time.Minute}

// Dev is a simulated sensor.
type Dev struct {
	quantities []quantity
	wave       func(d *Dev, q quantity, t time.Time) float64
	period     int64 // ns
	seed       uint64
	now        func() time.Time
}

var _ sensors.Sensor = (*Dev)(nil)

// New returns a simulated sensor, or an error for bad options.
func New(opts *Opts) (*Dev, error) {
	o := *opts
	if o.Waveform == "" {
		o.Waveform = "sine"
	}
	if o.Period == 0 {
		o.Period = DefaultOpts.Period
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	wave, ok := waves[o.Waveform]
	switch {
	case !ok:
		return nil, fmt.Errorf("sim: unknown waveform %q (want one of %v)", o.Waveform, Waveforms)
	case o.Period < 0:
		return nil, fmt.Errorf("sim: negative period %v", o.Period)
	case len(o.Quantities) == 0:
		return nil, errors.New("sim: no quantities")
	}
	d := &Dev{wave: wave, period: int64(o.Period), seed: uint64(o.Seed), now: o.Now}
	seen := map[string]bool{}
	for i, name := range o.Quantities {
		if err := sensors.ValidQuantity(name); err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
		if seen[name] {
			return nil, fmt.Errorf("sim: quantity %q listed twice", name)
		}
		seen[name] = true
		d.quantities = append(d.quantities, newQuantity(name, i, d.seed))
	}
	return d, nil
}

// Sense returns one reading per quantity, at the current time.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := d.now()
	rs := make([]sensors.Reading, 0, len(d.quantities))
	for _, q := range d.quantities {
		v := q.lo + (q.hi-q.lo)*d.wave(d, q, t)
		rs = append(rs, sensors.Reading{Quantity: q.name, Value: math.Round(v*100) / 100, Unit: q.unit, Time: t})
	}
	return rs, nil
}

// Halt does nothing: there is no device.
func (d *Dev) Halt() error { return nil }

// String names the device for logs.
func (d *Dev) String() string { return fmt.Sprintf("sim(%d quantities)", len(d.quantities)) }

//

// profile is a known quantity's unit and range.
type profile struct {
	unit   string
	lo, hi float64
}

var profiles = map[string]profile{
	"temperature": {"°C", 15, 25},
	"humidity":    {"%", 30, 70},
	"pressure":    {"hPa", 990, 1030},
	"voltage":     {"V", 11.5, 12.8},
	"current":     {"A", 0, 2},
	"power":       {"W", 0, 500},
	"co2":         {"ppm", 400, 1200},
	"lux":         {"lx", 0, 1000},
}

type quantity struct {
	name   string
	unit   string
	lo, hi float64
	key    uint64  // seed mixed with the position: drives phase and noise
	phase  float64 // [0, 1): offset within the cycle
}

func newQuantity(name string, index int, seed uint64) quantity {
	p, ok := profiles[name]
	if !ok {
		p = profile{"", 0, 1}
	}
	key := mix(seed ^ mix(uint64(index)+1))
	return quantity{name: name, unit: p.unit, lo: p.lo, hi: p.hi, key: key, phase: unit01(key)}
}

var waves = map[string]func(d *Dev, q quantity, t time.Time) float64{
	"sine":     func(d *Dev, q quantity, t time.Time) float64 { return 0.5 + 0.5*math.Sin(2*math.Pi*d.cycle(q, t)) },
	"square":   func(d *Dev, q quantity, t time.Time) float64 { return math.Floor(2 * (1 - d.cycle(q, t))) },
	"sawtooth": func(d *Dev, q quantity, t time.Time) float64 { return d.cycle(q, t) },
	"random":   (*Dev).noise,
}

// cycle returns where t falls in q's cycle, in [0, 1).
func (d *Dev) cycle(q quantity, t time.Time) float64 {
	c := float64(mod(t.UnixNano(), d.period))/float64(d.period) + q.phase
	return c - math.Floor(c)
}

// noise is value noise: a pseudo-random point every period/8 from the seed,
// joined by straight lines, so the value wanders but never jumps.
func (d *Dev) noise(q quantity, t time.Time) float64 {
	step := max(d.period/noisePoints, 1)
	ns := t.UnixNano()
	k := floorDiv(ns, step)
	f := float64(ns-k*step) / float64(step)
	a, b := unit01(mix(q.key^uint64(k))), unit01(mix(q.key^uint64(k+1)))
	return a + (b-a)*f
}

const noisePoints = 8

// mix is splitmix64's finalizer: a good 64-bit hash.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unit01 maps a hash to [0, 1).
func unit01(x uint64) float64 { return float64(x>>11) / (1 << 53) }

func mod(a, b int64) int64 { return a - floorDiv(a, b)*b }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
