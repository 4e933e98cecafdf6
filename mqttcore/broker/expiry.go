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

// expiryLoop discards expired sessions every second, the resolution of an
// MQTT 5.0 Session Expiry Interval, until ctx is done.
func (b *Broker) expiryLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n := b.expireSessions(now)
			b.publishDueWills(now)
			if n > 0 {
				b.log.Info("persistent sessions expired", "count", n)
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
		if s.expired(now) {
			b.discardLocked(s)
			n++
		}
	}
	b.stats.sessionsExpired.Add(uint64(n))
	return n
}

// expired reports whether s is a persistent session whose client has been
// away at now for its expiry: the MQTT 5.0 Session Expiry Interval its
// client asked for, else Options.SessionExpiry. A session a connection
// has claimed (takeSession) is not, even before it is attached: that
// client is told its session is present.
func (s *sess) expired(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.expiry
	if d == 0 {
		if d = s.b.opts.SessionExpiry; d <= 0 {
			return false
		}
	}
	return !s.clean && !s.away.IsZero() && s.claim.Load() == nil && now.Sub(s.away) >= max(d, 0)
}
