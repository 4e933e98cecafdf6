package gpio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/edgegw/edgegw/sensors"
)

// Errors returned by In and Out.
var (
	// ErrHalted is returned by Sense, Set and Watch after Halt.
	ErrHalted = errors.New("gpio: pin halted")
	// ErrWatching is returned by a second concurrent Watch on one In.
	ErrWatching = errors.New("gpio: already watching")
)

// Mode is what an input reports.
type Mode uint8

// The input modes.
const (
	State   Mode = iota // the level: quantity "state", 0 or 1
	Counter             // changes counted: quantities "count" and "rate"
)

// DefaultDebounce is the debounce time of a gpio_in entry that sets none:
// long enough for the bounce of common push buttons and reed switches.
const DefaultDebounce = 20 * time.Millisecond

// waitSlice bounds each WaitForEdge call, so Watch notices cancellation
// within it.
const waitSlice = 100 * time.Millisecond

// InConfig configures an input pin.
type InConfig struct {
	Pull gpio.Pull // gpio.Float, gpio.PullUp or gpio.PullDown; the zero value keeps the pin's setting
	// Edge selects the debounced changes Watch reports (State) or counts
	// (Counter): gpio.RisingEdge, gpio.FallingEdge or gpio.BothEdges;
	// gpio.NoEdge (the zero value) means BothEdges.
	Edge gpio.Edge
	// Debounce is how long a level must hold after the last edge before it
	// counts. 0 takes every edge as it comes.
	Debounce time.Duration
	// Mode is State (report the level) or Counter (count changes).
	Mode Mode
	// Now is the clock for debouncing and rates; nil means time.Now. It
	// must be the clock the pin's WaitForEdge waits on.
	Now func() time.Time
}

// In is a digital input: a sensors.Sensor and sensors.Watcher.
type In struct {
	pin gpio.PinIO
	cfg InConfig

	watching atomic.Bool
	halted   atomic.Bool
	haltOnce sync.Once
	haltErr  error

	mu        sync.Mutex // guards the counter fields
	count     uint64     // changes counted since NewIn
	lastCount uint64     // count at the previous Sense
	lastSense time.Time  // time of the previous Sense (or NewIn)
}

var (
	_ sensors.Sensor  = (*In)(nil)
	_ sensors.Watcher = (*In)(nil)
)

// NewIn configures pin as an input with cfg.Pull, armed for both edges (see
// the package documentation), and returns it as a sensor.
func NewIn(pin gpio.PinIO, cfg InConfig) (*In, error) {
	if cfg.Edge == gpio.NoEdge {
		cfg.Edge = gpio.BothEdges
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Debounce < 0 {
		return nil, fmt.Errorf("gpio: negative debounce %v", cfg.Debounce)
	}
	if err := pin.In(cfg.Pull, gpio.BothEdges); err != nil {
		return nil, fmt.Errorf("gpio: %s: set as input with edge detection: %w", pin, err)
	}
	return &In{pin: pin, cfg: cfg, lastSense: cfg.Now()}, nil
}

// String names the pin.
func (in *In) String() string { return in.pin.String() }

// Sense returns the level in State mode; in Counter mode the count and the
// rate of changes since the previous Sense.
func (in *In) Sense(ctx context.Context) ([]sensors.Reading, error) {
	if in.halted.Load() {
		return nil, ErrHalted
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gpio: %w", err)
	}
	if in.cfg.Mode == State {
		return []sensors.Reading{{Quantity: "state", Value: levelValue(in.pin.Read())}}, nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	now := in.cfg.Now()
	rate := 0.0
	if elapsed := now.Sub(in.lastSense).Seconds(); elapsed > 0 {
		rate = float64(in.count-in.lastCount) / elapsed
	}
	in.lastCount, in.lastSense = in.count, now
	return []sensors.Reading{
		{Quantity: "count", Value: float64(in.count)},
		{Quantity: "rate", Value: rate, Unit: "/s"},
	}, nil
}

// Watch waits for edges until ctx is done and returns nil then. In State
// mode it calls emit with the new "state" on each debounced change in the
// configured direction; in Counter mode it counts those changes for Sense.
func (in *In) Watch(ctx context.Context, emit func([]sensors.Reading)) error {
	if !in.watching.CompareAndSwap(false, true) {
		return ErrWatching
	}
	defer in.watching.Store(false)
	last := in.pin.Read()
	for ctx.Err() == nil {
		if in.halted.Load() {
			return ErrHalted
		}
		if !in.pin.WaitForEdge(waitSlice) {
			continue
		}
		level, ok := in.settle(ctx)
		if !ok || level == last {
			continue // cancelled, or a pulse shorter than Debounce
		}
		last = level
		if in.wanted(level) {
			in.record(level, emit)
		}
	}
	return nil
}

// Halt stops Watch and Sense and releases the pin's edge detection (periph
// interrupts a pending WaitForEdge). It is safe to call twice and returns the
// first result.
func (in *In) Halt() error {
	in.haltOnce.Do(func() {
		in.halted.Store(true)
		if err := in.pin.Halt(); err != nil {
			in.haltErr = fmt.Errorf("gpio: %s: halt: %w", in.pin, err)
		}
	})
	return in.haltErr
}

//

// settle waits until no edge has come for Debounce, then reads the level. It
// returns false when ctx ends first.
func (in *In) settle(ctx context.Context) (gpio.Level, bool) {
	quietSince := in.cfg.Now()
	for {
		left := in.cfg.Debounce - in.cfg.Now().Sub(quietSince)
		if left <= 0 {
			return in.pin.Read(), true
		}
		if ctx.Err() != nil {
			return gpio.Low, false
		}
		if in.pin.WaitForEdge(min(left, waitSlice)) {
			quietSince = in.cfg.Now()
		}
	}
}

// wanted reports whether a settled change to level is in the edge direction.
func (in *In) wanted(level gpio.Level) bool {
	switch in.cfg.Edge {
	case gpio.RisingEdge:
		return level == gpio.High
	case gpio.FallingEdge:
		return level == gpio.Low
	}
	return true
}

// record counts a change, or reports it.
func (in *In) record(level gpio.Level, emit func([]sensors.Reading)) {
	if in.cfg.Mode == Counter {
		in.mu.Lock()
		in.count++
		in.mu.Unlock()
		return
	}
	emit([]sensors.Reading{{Quantity: "state", Value: levelValue(level), Time: in.cfg.Now()}})
}
