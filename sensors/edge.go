package sensors

import (
	"context"
	"log/slog"
	"sync"
)

// edge logs a condition once per change: the first failure at Warn, repeats
// at Debug, and the recovery at Info. It keeps logs readable when a sensor is
// unplugged for a week. Safe for concurrent use.
type edge struct {
	log  *slog.Logger
	what string // e.g. "sensor read"

	mu      sync.Mutex
	failing bool
	known   bool // a first outcome was seen
	fails   int  // consecutive failures
}

// fail records a failure and reports whether it is a change of state (the
// first outcome, or ok → failing).
func (e *edge) fail(ctx context.Context, err error, attrs ...any) bool {
	e.mu.Lock()
	changed := !e.known || !e.failing
	e.known, e.failing = true, true
	e.fails++
	n := e.fails
	e.mu.Unlock()
	args := append([]any{slog.Any("err", err), slog.Int("failures", n)}, attrs...)
	if changed {
		e.log.WarnContext(ctx, e.what+" failed", args...)
	} else {
		e.log.DebugContext(ctx, e.what+" still failing", args...)
	}
	return changed
}

// ok records a success and reports whether it is a change of state (the
// first outcome, or failing → ok).
func (e *edge) ok(ctx context.Context, attrs ...any) bool {
	e.mu.Lock()
	changed := !e.known || e.failing
	wasFailing, n := e.failing, e.fails
	e.known, e.failing, e.fails = true, false, 0
	e.mu.Unlock()
	if wasFailing {
		e.log.InfoContext(ctx, e.what+" recovered", append([]any{slog.Int("failures", n)}, attrs...)...)
	}
	return changed
}
