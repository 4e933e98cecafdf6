package sensors

import (
	"context"
	"time"
)

// Backoff is a capped exponential delay: Min, 2×Min, 4×Min, … up to Max.
// Drivers use it to retry a lost device (the serial driver reopens its port
// with one). The zero value waits 1s, doubling up to 1 minute. It is not safe
// for concurrent use.
type Backoff struct {
	Min time.Duration // first delay; default 1s
	Max time.Duration // cap; default 1 minute (and never below Min)
	cur time.Duration
}

// Next returns the delay to wait now and doubles the following one.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.bounds()
	if b.cur < lo {
		b.cur = lo
	}
	d := b.cur
	if b.cur < hi/2 {
		b.cur *= 2
	} else {
		b.cur = hi
	}
	return min(d, hi)
}

// Reset makes the next delay Min again, after a success.
func (b *Backoff) Reset() { b.cur = 0 }

// Sleep waits for d or until ctx is done, and reports whether the full delay
// passed (false: ctx is done).
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

//

func (b *Backoff) bounds() (lo, hi time.Duration) {
	lo, hi = b.Min, b.Max
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = time.Minute
	}
	return lo, max(hi, lo)
}
