package sensors

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// watchRetryMin is the first delay before restarting a failed Watch.
const watchRetryMin = time.Second

// errWatchReturned is the failure recorded when Watch returns nil while ctx
// is still live: the contract says it blocks until cancellation.
var errWatchReturned = errors.New("sensors: watch returned before cancellation")

// watchLoop runs w.Watch until ctx is done, restarting it with backoff when
// it returns early. The backoff resets once a Watch call has reported
// readings.
func (p *Poller) watchLoop(ctx context.Context, w Watcher) {
	retry := Backoff{Min: watchRetryMin, Max: max(p.opts.MaxBackoff, watchRetryMin)}
	for {
		var emitted atomic.Bool
		err := w.Watch(ctx, func(rs []Reading) {
			emitted.Store(true)
			p.emit(ctx, rs)
		})
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errWatchReturned
		}
		p.stats.watchErrors.Add(1)
		p.watchEdge.fail(ctx, err)
		if emitted.Load() {
			retry.Reset()
		}
		if !Sleep(ctx, retry.Next()) {
			return
		}
	}
}

// emit publishes readings a Watcher reported, through the same processing
// as Sense results. Rejected readings are counted and logged once per change;
// they do not change the sensor's status, which polling owns.
func (p *Poller) emit(ctx context.Context, rs []Reading) {
	if ctx.Err() != nil || len(rs) == 0 {
		return
	}
	p.watchEdge.ok(ctx)
	p.stats.emitted.Add(uint64(len(rs)))
	if err := p.publishReadings(ctx, rs); err != nil {
		p.emitEdge.fail(ctx, err)
	} else {
		p.emitEdge.ok(ctx)
	}
}
