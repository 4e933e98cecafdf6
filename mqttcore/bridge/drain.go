package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/topic"
	"github.com/edgegw/edgegw/offline"
)

// ackBuffer is the capacity of the channel to the acker.
const ackBuffer = 4096

// drain sends the queue upstream: first what the last connection left
// unacknowledged (with DUP set), then entries from the queue in order as the
// inflight window frees up. It returns nil when ctx ends.
func (c *conn) drain(ctx context.Context) error {
	b := c.b
	if b.o.Queue == nil { // out rules at QoS 0 only
		<-ctx.Done()
		return nil
	}
	lim := newLimiter(b.o.DrainRate)
	b.win.setLimit(c.lim.window)
	c.loadOrphans()
	for _, f := range b.win.resume(c.sessionPresent) {
		if !f.received && f.msg.QoS > c.lim.maxQoS {
			if c.lim.maxQoS == 0 {
				c.resendQoS0(ctx, f)
				continue
			}
			f.msg.QoS = c.lim.maxQoS
			b.win.setQoS(f.pid, f.msg.QoS)
		}
		if !f.received && c.mayBeTooLarge(f.msg) && c.tooLarge(c.publish(f.msg, f.pid, f.sent, f.expires)) {
			c.dropTooLarge(f.seq, f.msg, b.win.removeRejected(f.pid, f.msg.QoS) != nil)
			continue
		}
		if lim.wait(ctx) != nil || !c.releaseOrphans(ctx, f.seq) || !c.sendFlight(ctx, f) {
			return nil
		}
	}
	if b.o.LiveFirst {
		b.win.startLanes(b.o.Queue.LastSeq())
	}
	for {
		free, after, live, err := b.win.room(ctx)
		if err != nil {
			return nil
		}
		if live != 0 { // lanes: what arrived during the backlog goes first
			n, stop, err := c.drainLive(ctx, lim, live, max(1, free/2))
			if stop || err != nil {
				return err
			}
			if free -= n; free == 0 {
				continue
			}
		}
		entries, err := b.o.Queue.Read(ctx, after, free)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("bridge: read queue: %w", err)
		}
		c.loadOrphans()
		for _, e := range entries {
			if !b.win.inBacklog(e.Seq) { // the backlog is done; the live lane has these
				b.win.endBacklog()
				break
			}
			if !c.releaseOrphans(ctx, e.Seq) {
				return nil
			}
			if err := c.drainEntry(ctx, lim, e); err != nil {
				return nil
			}
		}
	}
}

// drainLive sends up to max entries of the live lane (after live) that are
// already queued, without waiting for more, and returns how many it took.
// stop means the connection or ctx ended.
func (c *conn) drainLive(ctx context.Context, lim *limiter, live uint64, max int) (n int, stop bool, err error) {
	now, cancel := context.WithCancel(ctx)
	cancel() // Read returns what is queued, and an error instead of waiting
	entries, err := c.b.o.Queue.Read(now, live, max)
	switch {
	case ctx.Err() != nil:
		return 0, true, nil
	case errors.Is(err, context.Canceled): // nothing queued in the live lane
		return 0, false, nil
	case err != nil:
		return 0, true, fmt.Errorf("bridge: read queue: %w", err)
	}
	c.loadOrphans()
	for _, e := range entries {
		if !c.releaseOrphans(ctx, e.Seq) {
			return 0, true, nil
		}
		if err := c.drainEntry(ctx, lim, e); err != nil {
			return 0, true, nil
		}
	}
	return len(entries), false, nil
}

// drainEntry admits one queue entry to the window and sends it. The error
// is ctx's, or a sign that the connection ended.
func (c *conn) drainEntry(ctx context.Context, lim *limiter, e offline.Entry) error {
	b := c.b
	if reason := unsendable(e); reason != "" {
		b.quarantine(e.Seq, reason)
		return nil
	}
	if !e.Received && c.mayBeTooLarge(e.Message) && c.tooLarge(c.publish(e.Message, pidOf(e.Seq), false, expiresAt(e))) {
		b.win.skip(e.Seq)
		c.dropTooLarge(e.Seq, e.Message, true)
		return nil
	}
	if !e.Received && e.QoS > c.lim.maxQoS { // MQTT 5.0 Maximum QoS: sent (and acknowledged) at it
		e.QoS = c.lim.maxQoS
	}
	if e.QoS == 0 { // not written by this bridge, or the upstream's Maximum QoS is 0
		b.win.skip(e.Seq)
		if !c.sendCtx(ctx, c.publish(e.Message, 0, false, expiresAt(e))) {
			return errDisconnected
		}
		b.stats.forwarded.Add(1)
		b.acks <- e.Seq
		return nil
	}
	f, err := b.win.admit(ctx, e)
	if err != nil {
		return err
	}
	if err := lim.wait(ctx); err != nil {
		return err
	}
	var snap flight
	b.win.update(f, func(f *flight) {
		if f.received && !c.sessionPresent {
			f.received = false // the upstream lost the PUBREC: publish again
		}
		snap = *f
		f.sent, f.sentAt = true, time.Now()
	})
	if !c.sendFlight(ctx, snap) {
		return errDisconnected
	}
	return nil
}

// sendFlight sends PUBREL for a released QoS 2 message, PUBLISH otherwise.
func (c *conn) sendFlight(ctx context.Context, f flight) bool {
	if f.received {
		return c.sendCtx(ctx, &packet.Pubrel{PacketID: f.pid})
	}
	return c.sendCtx(ctx, c.publish(f.msg, f.pid, f.sent, f.expires))
}

// resendQoS0 sends an unacknowledged flight at QoS 0 to an upstream whose
// Maximum QoS is 0, and completes it.
func (c *conn) resendQoS0(ctx context.Context, f flight) {
	if c.b.win.removeRejected(f.pid, f.msg.QoS) == nil {
		return
	}
	if c.sendCtx(ctx, c.publish(f.msg, 0, false, f.expires)) {
		c.delivered(f.seq)
	}
}

// dropTooLarge deletes queue entry seq, a message larger than the
// upstream's Maximum Packet Size: the upstream would close the connection
// on it [MQTT-3.2.2-15], every time it is sent again. Counted as
// DroppedTooLarge. ack false: the entry is not the bridge's to delete.
func (c *conn) dropTooLarge(seq uint64, m offline.Message, ack bool) {
	b := c.b
	b.stats.drop(DroppedTooLarge)
	b.logLimited(slog.LevelError, logTooLarge, "bridge: message larger than the upstream's maximum packet size, dropped",
		"topic", m.Topic, "payload_bytes", len(m.Payload), "maximum_packet_size", c.lim.maxPacket)
	if ack {
		b.acks <- seq
	}
}

func publishOf(m offline.Message, pid uint16, dup bool) *packet.Publish {
	return &packet.Publish{Dup: dup && m.QoS > 0, QoS: m.QoS, Retain: m.Retain, Topic: m.Topic, PacketID: pid, Payload: m.Payload}
}

// unsendable says why an entry can never be published, or "".
func unsendable(e offline.Entry) string {
	if err := topic.ValidateName(e.Topic); err != nil {
		return "invalid topic: " + err.Error()
	}
	if e.QoS > 2 {
		return "invalid qos"
	}
	if len(e.Payload)+len(e.Topic)+4 > packet.MaxRemainingLength {
		return "too large"
	}
	return ""
}

func (b *Bridge) quarantine(seq uint64, reason string) {
	b.win.skip(seq)
	b.stats.drop(DroppedQuarantined)
	if err := b.o.Queue.Quarantine(seq, reason); err != nil {
		b.log.Error("bridge: quarantine failed", "seq", seq, "err", err)
		return
	}
	b.log.Error("bridge: queued message quarantined", "seq", seq, "reason", reason)
}

// onPuback completes a QoS 1 message.
func (c *conn) onPuback(pid uint16) {
	if pid >= ctrlFirst {
		c.b.ctrl.done(pid)
		return
	}
	if f := c.b.win.remove(pid, 1); f != nil {
		c.b.noteAck(f)
		c.delivered(f.seq)
	}
}

// The queue's orphans are QoS 2 messages it dropped (overflow, expiry)
// after they may have been sent, typically by a gateway that lost power
// before the PUBREC came back. The upstream may hold each one under its
// packet identifier until a PUBREL: Mosquitto counts them against the
// session's inflight quota and, once that is used up, answers every further
// QoS 1/2 PUBLISH with "quota exceeded", which MQTT 3.1.1 cannot tell the
// bridge (see offline/orphans.go). So on a resumed session the bridge
// releases them (PUBREL) in sequence order with what it sends: each one
// just before the first message queued after it, so that the upstream,
// which delivers a QoS 2 message on its PUBREL, delivers a held one in its
// place rather than after newer ones; on its PUBCOMP the queue forgets it.
// A released message the upstream did hold is delivered then, though the
// queue counted it as dropped. A new session holds no identifiers: the
// orphans are forgotten at once.

// loadOrphans adds the queue's orphans this connection does not know yet
// to those waiting for release.
func (c *conn) loadOrphans() {
	b := c.b
	seqs, gen, err := b.o.Queue.Orphans(c.orphanGen)
	if err != nil {
		b.log.Warn("bridge: reading the queue's orphans failed; retried on the next read", "err", err)
		return
	}
	c.orphanGen = gen
	if len(seqs) == 0 {
		return
	}
	if !c.sessionPresent {
		b.o.Queue.ForgetOrphansAsync(seqs, nil)
		return
	}
	c.orphanMu.Lock()
	defer c.orphanMu.Unlock()
	if c.orphansSeen == nil {
		c.orphansSeen, c.awaiting = make(map[uint64]struct{}), make(map[uint16][]uint64)
	}
	for _, seq := range seqs {
		if _, ok := c.orphansSeen[seq]; !ok {
			c.orphansSeen[seq] = struct{}{}
			c.orphansDue = append(c.orphansDue, seq)
		}
	}
	slices.Sort(c.orphansDue)
}

// releaseOrphans sends PUBREL for the identifiers of the orphans waiting
// for release that are older than seq, except those a flight of the window
// uses (released, or completed, with that flight; the next connection
// tries again). It returns false when the connection ended.
func (c *conn) releaseOrphans(ctx context.Context, before uint64) bool {
	b := c.b
	var pids []uint16
	c.orphanMu.Lock()
	n := 0
	for n < len(c.orphansDue) && c.orphansDue[n] < before {
		n++
	}
	for _, seq := range c.orphansDue[:n] {
		pid := pidOf(seq)
		if b.win.get(pid) != nil {
			continue
		}
		if c.awaiting[pid] == nil {
			pids = append(pids, pid)
		}
		c.awaiting[pid] = append(c.awaiting[pid], seq)
	}
	c.orphansDue = slices.Delete(c.orphansDue, 0, n)
	c.orphanMu.Unlock()
	for _, pid := range pids {
		if !c.sendCtx(ctx, &packet.Pubrel{PacketID: pid}) {
			return false
		}
	}
	if len(pids) > 0 {
		b.stats.orphansReleased.Add(uint64(len(pids)))
		b.log.Info("bridge: released the packet identifiers of QoS 2 messages dropped after they may have been sent",
			"identifiers", len(pids))
	}
	return true
}

// forgetOrphan completes the release of identifier pid (its PUBCOMP came),
// if it was an orphan's.
func (c *conn) forgetOrphan(pid uint16) {
	c.orphanMu.Lock()
	seqs := c.awaiting[pid]
	delete(c.awaiting, pid)
	c.orphanMu.Unlock()
	if len(seqs) > 0 {
		c.b.o.Queue.ForgetOrphansAsync(seqs, nil)
	}
}

// onPubcomp completes a QoS 2 message whose PUBREC was received and
// persisted. A PUBCOMP for a message still waiting for its PUBREC breaks
// the protocol [MQTT-4.3.3]: the message stays in flight (sent again on the
// next connection) rather than being deleted undelivered.
func (c *conn) onPubcomp(pid uint16) {
	if f := c.b.win.remove(pid, 2); f != nil {
		c.delivered(f.seq)
		return
	}
	if f := c.b.win.get(pid); f != nil {
		if f.msg.QoS == 2 {
			c.b.logLimited(slog.LevelWarn, logProtocol, "bridge: upstream sent PUBCOMP before PUBREC; message kept", "packet_id", pid)
		}
		return
	}
	c.forgetOrphan(pid)
}

// delivered hands a seq the upstream acknowledged to the acker.
func (c *conn) delivered(seq uint64) {
	c.b.stats.forwarded.Add(1)
	select {
	case c.b.acks <- seq:
	default: // the disk is slow: wait (the acker always drains)
		c.stallWhile(func() { c.b.acks <- seq })
	}
}

// onPubrec persists the PUBREC of a QoS 2 message, then sends PUBREL. The
// durable writes run off the reader, which goes on reading; PUBRELs go out
// in the order of their PUBRECs [MQTT-4.6.0-3] (the upstream delivers QoS 2
// messages in PUBREL order), through one queue per connection (relQueue).
func (c *conn) onPubrec(pid uint16) {
	b := c.b
	f := b.win.get(pid)
	job := relJob{f: f, pid: pid}
	if f != nil {
		skip := false
		b.win.update(f, func(f *flight) {
			switch {
			case f.msg.QoS != 2 || f.marking:
				skip = true // not ours to release, or already on its way
			case !f.received:
				f.marking, job.mark, job.seq = true, true, f.seq
			}
		})
		if skip {
			return
		}
	}
	// Unknown to us (e.g. dropped by the overflow policy): released all
	// the same, so the upstream does not keep the identifier forever.
	c.rel.push(c, job)
}

// relJob is one PUBREL to send, after persisting the PUBREC when mark.
type relJob struct {
	f    *flight
	pid  uint16
	seq  uint64
	mark bool
}

// relQueue orders a connection's PUBRELs: one goroutine at a time takes
// every job queued, persists their PUBRECs together (one group commit) and
// sends the PUBRELs in order. When a PUBREC cannot be persisted (a full or
// failing disk), that PUBREL and those after it wait and the marks are
// tried again with backoff (markRetryMin to markRetryMax), on the same
// connection: dropping the uplink would only make the upstream send the
// PUBRECs again at once, in a reconnect loop that also silences the
// metrics reporting the fault.
type relQueue struct {
	mu   sync.Mutex
	jobs []relJob
	busy bool
}

func (q *relQueue) push(c *conn, j relJob) {
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	start := !q.busy
	q.busy = true
	q.mu.Unlock()
	if start {
		c.spawn(func() error { return q.run(c) })
	}
}

func (q *relQueue) run(c *conn) error {
	for {
		q.mu.Lock()
		jobs := q.jobs
		q.jobs = nil
		if len(jobs) == 0 {
			q.busy = false
		}
		q.mu.Unlock()
		if len(jobs) == 0 {
			return nil
		}
		if err := q.release(c, jobs); err != nil {
			return err
		}
	}
}

// Backoff of PUBREC marks that failed to persist.
const (
	markRetryMin = 100 * time.Millisecond
	markRetryMax = 5 * time.Second
)

// release persists the PUBRECs of jobs and sends their PUBRELs in order,
// trying failed marks again until they succeed or the connection ends.
func (q *relQueue) release(c *conn, jobs []relJob) error {
	delay := markRetryMin
	for len(jobs) > 0 {
		errs := c.markAll(jobs)
		i := 0
		for ; i < len(jobs) && errs[i] == nil; i++ {
			j := jobs[i]
			if j.mark {
				c.b.win.update(j.f, func(f *flight) { f.marking, f.received = false, true })
			}
			c.send(&packet.Pubrel{PacketID: j.pid})
		}
		if jobs = jobs[i:]; len(jobs) == 0 {
			return nil
		}
		// The rest are tried again, marks that succeeded too (marking is
		// idempotent).
		c.b.logLimited(slog.LevelWarn, "pubrec", "bridge: cannot persist a QoS 2 PUBREC; its PUBREL waits", "err", errs[i], "retry_in", delay)
		select {
		case <-c.ctx.Done():
			for _, rest := range jobs { // retried on the next connection
				if rest.mark {
					c.b.win.update(rest.f, func(f *flight) { f.marking = false })
				}
			}
			return fmt.Errorf("bridge: persist pubrec: %w", errs[i])
		case <-time.After(delay):
		}
		delay = min(2*delay, markRetryMax)
	}
	return nil
}

// markAll persists the PUBRECs of jobs at once, in order (a crash keeps a
// prefix of them: a later message is never released before an earlier
// one), and returns each one's error. ErrNotFound (the overflow policy
// dropped the entry meanwhile) is not one: releasing it still delivers it
// once.
func (c *conn) markAll(jobs []relJob) []error {
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		if !j.mark {
			continue
		}
		wg.Add(1)
		c.b.o.Queue.MarkReceivedAsync(j.seq, func(err error) {
			if err != nil && !errors.Is(err, offline.ErrNotFound) {
				errs[i] = err
			}
			wg.Done()
		})
	}
	wg.Wait()
	return errs
}

// ackLoop deletes delivered entries from the queue, as many per ack as
// have arrived meanwhile, until in is closed. Acks are submitted without
// waiting for their commit (at most maxAcksInFlight at once), so that small
// acks can linger to share a commit with the next append (flash wear) while
// a fast drain's acks never wait on each other.
func (b *Bridge) ackLoop(in <-chan uint64) {
	slots := make(chan struct{}, maxAcksInFlight)
	for seq := range in {
		batch := []uint64{seq}
	more:
		for len(batch) < ackBuffer {
			select {
			case s, ok := <-in:
				if !ok {
					break more
				}
				batch = append(batch, s)
			default:
				break more
			}
		}
		slots <- struct{}{}
		b.o.Queue.AckAsync(batch, func(err error) {
			<-slots
			if err != nil {
				// The entries stay and are sent again after a restart.
				b.log.Error("bridge: ack queue entries", "err", err, "seq", batch[0], "count", len(batch))
			}
		})
	}
	for range maxAcksInFlight { // wait for the last commits
		slots <- struct{}{}
	}
}

// maxAcksInFlight bounds the acks submitted to the queue and not yet
// committed.
const maxAcksInFlight = 64

// limiter spaces sends to a rate in messages per second; 0 is unlimited.
// It allows a burst of up to 100 ms worth of messages after a pause.
type limiter struct {
	every time.Duration
	next  time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return &limiter{}
	}
	return &limiter{every: time.Duration(float64(time.Second) / rate)}
}

func (l *limiter) wait(ctx context.Context) error {
	if l.every == 0 {
		return ctx.Err()
	}
	now := time.Now()
	if floor := now.Add(-100 * time.Millisecond); l.next.Before(floor) {
		l.next = floor
	}
	d := l.next.Sub(now)
	l.next = l.next.Add(l.every)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
