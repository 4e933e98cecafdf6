package i2cdev

import (
	"context"
	"sync"

	"github.com/edgegw/edgegw/sensors"
)

// Guard serialises a sensor's Sense and Halt calls and remembers Halt. The
// zero value is ready to use.
type Guard struct {
	mu     sync.Mutex
	halted bool
}

// Sense runs read under the guard: it fails with ErrHalted after Halt, and
// with ctx's error when ctx is done, without calling read.
func (g *Guard) Sense(ctx context.Context, read func() ([]sensors.Reading, error)) ([]sensors.Reading, error) {
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
