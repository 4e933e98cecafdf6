package bridge

import (
	"time"
)

// When a message bound upstream is written to flash. A QoS 1 message from a
// local client is sent upstream at once and written only if the upstream
// has not acknowledged it within Options.CommitDelay: on a healthy uplink
// nothing touches the disk. Its publisher is acknowledged when either
// happens (offline.Queue.AppendDeferred). While the uplink is down it is
// written within the same delay, group-committed with the messages around
// it. Where waiting for the upstream cannot help, the message is written
// ahead at once, as every QoS 2 message is: while the upstream's
// acknowledgement is expected to take longer than the delay (its recent
// acknowledgement time, times the windows' worth of messages queued ahead:
// expectedAck).

// commitPlan says how OnPublish stores a message: delay is how long its
// commit may wait for the upstream's acknowledgement, early that its
// publisher is acknowledged as soon as it is queued (nobody waits for it).
type commitPlan struct {
	delay time.Duration
	early bool
}

// planCommit decides how a message of origin at qos is stored.
func (b *Bridge) planCommit(origin string, qos byte) commitPlan {
	if qos != 1 {
		return commitPlan{} // QoS 2: the PUBREC state must survive a restart
	}
	if b.unattended[origin] {
		if b.o.UnattendedCommitDelay < 0 {
			return commitPlan{}
		}
		return commitPlan{delay: b.o.UnattendedCommitDelay, early: true}
	}
	// With no uplink the message will be written, but it may wait the
	// delay for others to share its commit (an outage at 1,000 msg/s wrote
	// ~8 messages per commit at once, ~30 within the delay). With an
	// upstream slower than the delay, waiting only adds latency.
	d := b.o.CommitDelay
	if d <= 0 || b.cur.Load() != nil && b.expectedAck() > d {
		return commitPlan{}
	}
	return commitPlan{delay: d}
}

// expectedAck estimates how long a message queued now waits for the
// upstream's acknowledgement: one acknowledgement time (ackLatency) for each
// window's worth of messages queued before it, and one for itself.
func (b *Bridge) expectedAck() time.Duration {
	last := b.o.Queue.LastSeq()
	ahead := last - min(last, b.win.readPos()) // queued, not yet sent
	rounds := 1 + ahead/uint64(b.o.Inflight)
	return time.Duration(rounds) * time.Duration(b.ackLatency.Load())
}

// noteAck folds the time the upstream took to acknowledge f into
// ackLatency, a moving average (weight 1/8, like TCP's smoothed RTT).
func (b *Bridge) noteAck(f *flight) {
	if f.sentAt.IsZero() {
		return
	}
	sample := int64(time.Since(f.sentAt))
	for {
		old := b.ackLatency.Load()
		next := old + (sample-old)/8
		if old == 0 {
			next = sample
		}
		if b.ackLatency.CompareAndSwap(old, next) {
			return
		}
	}
}
