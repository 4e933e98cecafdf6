package sensors

import (
	"context"
	"errors"
	"sync"
)

// ErrHalted is returned by Guard.Sense after Guard.Halt.
var ErrHalted = errors.New("sensors: device halted")

// Guard serialises a driver's Sense and Halt calls and remembers Halt, so
// that a Sensor need not get its mutex and halted flag right again. The zero
// value is ready to use.
type Guard struct {
	mu     sync.Mutex
	halted bool
}

// Sense runs read under the guard: it fails with ErrHalted after Halt, and
// with ctx's error when ctx is done, without calling read.
func (g *Guard) Sense(ctx context.Context, read func() ([]Reading, error)) ([]Reading, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.halted {
		return nil, ErrHalted
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return read()
}

// Halt runs stop (nil: nothing) the first time it is called, and nothing
// after: Halt is safe to call twice.
func (g *Guard) Halt(stop func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.halted {
		return nil
	}
	g.halted = true
	if stop == nil {
		return nil
	}
	return stop()
}
