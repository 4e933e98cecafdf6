package broker

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/edgegw/edgegw/internal/bootclock"
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
	tick := 0
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
			if tick++; tick%retainedSweepTicks == 0 {
				if n := b.expireRetained(now); n > 0 {
					b.log.Debug("retained messages expired", "count", n)
				}
			}
		}
	}
}

// retainedSweepTicks is how many seconds apart expireLoop looks for
// expired retained messages among all of them. A subscription never gets
// an expired one (sendRetained checks each); the sweep only frees memory
// and store space, so it need not be frequent.
const retainedSweepTicks = 10

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

// A Message Expiry Interval counts down across restarts (3.3.2.3.3): a
// stored message (retained, or held for a persistent session) carries an
// expiry stamp, the boot clock (internal/bootclock: CLOCK_BOOTTIME and the
// kernel's boot id) when the record was written and the time the message
// had left then. Loaded in the same boot, it has that time less the boot
// time since: a restart of the broker, or of its process, does not stop
// the countdown, and no clock step moves it. Loaded after a reboot, how
// long the board was off is unknown (it may have no RTC), so the message
// gets what it had left when written, counted from loading: it never
// expires early, nor en masse after a clock step.

// appendExpiry appends the expiry stamp of a message expiring at expires
// (monotonic), as at now and boot stamp at: boot, boot time, time left,
// each a uvarint (nanoseconds).
func appendExpiry(b []byte, expires, now time.Time, at bootclock.Stamp) []byte {
	left := max(expires.Sub(now), 0)
	b = binary.AppendUvarint(b, at.Boot)
	b = binary.AppendUvarint(b, uint64(at.Since))
	return binary.AppendUvarint(b, uint64(left))
}

// decodeExpiry decodes an expiry stamp at the start of v and returns when
// the message expires on the monotonic clock, as loaded at now and boot
// stamp at (in the past when it has expired), and the bytes after it.
func decodeExpiry(v []byte, now time.Time, at bootclock.Stamp) (expires time.Time, rest []byte, err error) {
	var x [3]uint64
	for i := range x {
		n, k := binary.Uvarint(v)
		if k <= 0 || i > 0 && n > math.MaxInt64 {
			return time.Time{}, nil, fmt.Errorf("%w: expiry stamp", errBadRecord)
		}
		x[i], v = n, v[k:]
	}
	written := bootclock.Stamp{Boot: x[0], Since: time.Duration(x[1])}
	left := time.Duration(x[2])
	if d, ok := written.Elapsed(at); ok {
		left -= d
	}
	if left <= 0 {
		return now.Add(-time.Nanosecond), v, nil
	}
	return now.Add(left), v, nil
}
