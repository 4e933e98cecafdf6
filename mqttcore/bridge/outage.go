package bridge

import (
	"context"
	"log/slog"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/edgegw/edgegw/offline"
)

// drainPoll is how often a connection checks whether the backlog an outage
// left behind has been sent.
const drainPoll = 50 * time.Millisecond

// Outage describes the uplink's outages: the current one, and the last one
// that ended with its backlog drained. An outage starts when a connection
// ends other than by shutdown (or at Run when the first connection attempt
// fails, or when a backlog from an earlier run waits), and ends at the next
// CONNACK; its drain ends when the messages queued by then have been
// acknowledged upstream (or dropped). Durations are on the monotonic clock.
type Outage struct {
	// Count is the number of outages since New.
	Count uint64
	// Age is how long the current outage has lasted; 0 while connected.
	Age time.Duration
	// Draining is true from the reconnection until the backlog is sent.
	Draining bool
	// LastLength is the length of the last outage that ended (0 before
	// any): from the loss of the connection to the next CONNACK.
	LastLength time.Duration
	// PeakBacklog is the deepest queue seen during the last outage and its
	// drain (during the current one, while one lasts), in messages.
	PeakBacklog uint64
	// LastDrainTime is how long the last outage's backlog took to drain,
	// from the reconnection (0 while draining).
	LastDrainTime time.Duration
	// LastQueued is the queue depth at the last reconnection; LastDrained
	// how many of those messages were sent (the rest were dropped).
	LastQueued, LastDrained uint64
	// LastDropped counts the messages lost during the last outage and its
	// drain, by reason (Stats.Dropped's), non-zero reasons only.
	LastDropped map[string]uint64
}

// StateChanged returns a channel that is closed at the next change of
// Stats().Connected: when a connection is up (after its CONNACK) and when
// it has ended. Call it again after each change for the next one.
func (b *Bridge) StateChanged() <-chan struct{} {
	t := &b.stats.outage
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.changed == nil {
		t.changed = make(chan struct{})
	}
	return t.changed
}

//

// outageTracker is the state behind Outage, kept in Bridge.stats.
type outageTracker struct {
	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every state change
	connected bool          // at least one connection was up
	down      bool          // an outage lasts
	lostAt    time.Duration // Bridge.since() at the start of the outage
	dropBase  map[string]uint64
	draining  bool
	upAt      time.Duration // Bridge.since() at the reconnection
	ackBase   uint64        // the queue's Acked at the reconnection
	dropUp    uint64        // removedByDrops at the reconnection
	rec       Outage        // Count, PeakBacklog and the Last* fields
}

// notify closes the changed channel; t.mu is held.
func (t *outageTracker) notify() {
	if t.changed != nil {
		close(t.changed)
	}
	t.changed = make(chan struct{})
}

// outageSnapshot returns the Outage for Stats; depth is the queue's.
func (b *Bridge) outageSnapshot(depth uint64) Outage {
	t := &b.stats.outage
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.rec
	o.LastDropped = maps.Clone(t.rec.LastDropped)
	if t.down {
		o.Age = b.since() - t.lostAt
		t.rec.PeakBacklog = max(t.rec.PeakBacklog, depth)
		o.PeakBacklog = t.rec.PeakBacklog
	}
	if !t.connected && b.stats.connectFailures.Load() > 0 { // offline since Run
		o.Age = b.since()
	}
	o.Draining = t.draining
	return o
}

// noteDown records the end of a connection: an outage starts unless the
// bridge is shutting down (ctx done).
func (b *Bridge) noteDown(ctx context.Context) {
	q := b.queueStats()
	depth, dropped := q.Messages, b.droppedWith(q)
	t := &b.stats.outage
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notify()
	if ctx.Err() != nil {
		return
	}
	if !t.draining { // an outage during a drain continues the earlier one's counts
		t.dropBase = dropped
		t.rec.PeakBacklog = 0
	}
	t.down, t.draining, t.lostAt = true, false, b.since()
	t.rec.PeakBacklog = max(t.rec.PeakBacklog, depth)
	t.rec.Count++
}

// noteUp records a new connection: it ends the outage and starts the
// drain. It returns the outage's length and the backlog to drain (0, 0
// when there was no outage).
func (b *Bridge) noteUp() (length time.Duration, backlog uint64) {
	st := b.queueStats()
	failedFirst := b.stats.connectFailures.Load() > 0
	dropped := b.droppedWith(st)
	t := &b.stats.outage
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notify()
	if !t.connected && (failedFirst || st.Messages > 0) { // an outage since Run
		t.down, t.lostAt, t.dropBase = true, 0, dropped
		t.rec.PeakBacklog = 0
		t.rec.Count++
	}
	t.connected = true
	if !t.down {
		return 0, 0
	}
	now := b.since()
	t.down, t.draining, t.upAt, t.ackBase, t.dropUp = false, true, now, st.Acked, removedByDrops(dropped)
	t.rec.LastLength, t.rec.LastQueued, t.rec.LastDrained, t.rec.LastDrainTime = now-t.lostAt, st.Messages, 0, 0
	t.rec.PeakBacklog = max(t.rec.PeakBacklog, st.Messages)
	return t.rec.LastLength, st.Messages
}

// watchDrain runs on a connection after an outage: it waits until the
// backlog is sent, then records and logs the outage and publishes the
// metrics at once. It returns when ctx ends first.
func (c *conn) watchDrain(ctx context.Context) {
	b := c.b
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for !b.drainDone() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	b.logDrained()
	c.publishMetrics(ctx)
}

// drainDone reports whether the backlog of the outage just ended is gone
// (true when no drain is pending): the queue is empty, or, in FIFO order,
// as many entries as were queued at the reconnection have been acknowledged
// or dropped since. With LiveFirst only an empty queue counts, since fresh
// messages are acknowledged ahead of the backlog.
func (b *Bridge) drainDone() bool {
	st := b.queueStats()
	t := &b.stats.outage
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.draining {
		return true
	}
	t.rec.PeakBacklog = max(t.rec.PeakBacklog, st.Messages)
	removed := st.Acked - t.ackBase + removedByDrops(b.droppedWith(st)) - t.dropUp
	return st.Messages == 0 || (!b.o.LiveFirst && removed >= t.rec.LastQueued)
}

// logDrained closes the drain: it fills the Last* figures and logs them.
func (b *Bridge) logDrained() {
	dropped := b.droppedWith(b.queueStats())
	t := &b.stats.outage
	t.mu.Lock()
	if !t.draining {
		t.mu.Unlock()
		return
	}
	t.draining = false
	r := &t.rec
	r.LastDrainTime = b.since() - t.upAt
	r.LastDropped = diffCounts(dropped, t.dropBase)
	r.LastDrained = r.LastQueued - min(r.LastQueued, removedByDrops(dropped)-t.dropUp)
	rec := *r
	t.mu.Unlock()

	rate := 0.0
	if rec.LastDrainTime > 0 {
		rate = float64(rec.LastDrained) / rec.LastDrainTime.Seconds()
	}
	b.log.Info("bridge: backlog drained",
		"outage", rec.LastLength.Round(time.Millisecond), "queued", rec.LastQueued,
		"drained", rec.LastDrained, "peak_backlog", rec.PeakBacklog,
		"drain_time", rec.LastDrainTime.Round(time.Millisecond), "drain_rate_per_s", round1(rate),
		slog.Group("dropped", countAttrs(rec.LastDropped)...))
}

// queueStats is the queue's Stats (zero without a queue). It reads the
// store (the oldest entry's age): read it once per figure wanted.
func (b *Bridge) queueStats() offline.QueueStats {
	if b.o.Queue == nil {
		return offline.QueueStats{}
	}
	return b.o.Queue.Stats()
}

// droppedWith is the bridge's drop counts merged with the queue's in st.
func (b *Bridge) droppedWith(st offline.QueueStats) map[string]uint64 {
	d := b.stats.droppedCopy()
	for k, v := range st.Dropped {
		d[k] += v
	}
	return d
}

// removedByDrops sums the drop reasons that remove queued entries (as
// opposed to refusing new ones).
func removedByDrops(d map[string]uint64) uint64 {
	return d[offline.DroppedExpired] + d[offline.DroppedOverflowOldest] + d[DroppedQuarantined]
}

// diffCounts returns now − base per key, non-zero differences only.
func diffCounts(now, base map[string]uint64) map[string]uint64 {
	d := map[string]uint64{}
	for k, v := range now {
		if n := v - base[k]; n > 0 {
			d[k] = n
		}
	}
	return d
}

// countAttrs turns counts into log attributes, sorted by key.
func countAttrs(m map[string]uint64) []any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]any, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Uint64(k, m[k]))
	}
	return attrs
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
