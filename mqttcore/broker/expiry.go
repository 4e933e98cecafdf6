package broker

import (
	"context"
	"time"
)

// Persistent sessions whose client stays away are discarded after
// Options.SessionExpiry, like Mosquitto's persistent_client_expiration, so
// that abandoned sessions do not keep their subscriptions and queues for
// ever. Time away is measured with the monotonic clock from the moment the
// client disconnected, or from when the session was loaded at start: a
// clock step (a board without RTC setting its time) expires nothing, and a
// restart gives every stored session the full period again.

// expiryLoop discards expired sessions every tenth of SessionExpiry (at
// least every second, at most every minute) until ctx is done.
func (b *Broker) expiryLoop(ctx context.Context) {
	if b.opts.SessionExpiry <= 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(min(max(b.opts.SessionExpiry/10, time.Second), time.Minute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n := b.expireSessions(now); n > 0 {
				b.log.Info("persistent sessions expired", "count", n, "after", b.opts.SessionExpiry)
			}
		}
	}
}

// expireSessions discards the persistent sessions away for SessionExpiry
// or longer at now and returns how many.
func (b *Broker) expireSessions(now time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, s := range b.sessions {
		if s.expired(now, b.opts.SessionExpiry) {
			b.discardLocked(s)
			n++
		}
	}
	b.stats.sessionsExpired.Add(uint64(n))
	return n
}

// expired reports whether s is a persistent session whose client has been
// away for d or longer at now. A session a connection has claimed
// (takeSession) is not, even before it is attached: that client is told
// its session is present.
func (s *sess) expired(now time.Time, d time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.clean && !s.away.IsZero() && s.claim.Load() == nil && now.Sub(s.away) >= d
}
