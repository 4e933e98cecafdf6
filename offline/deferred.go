package offline

import (
	"fmt"
	"slices"
	"time"
)

// AppendDeferred appends m like AppendAsync, but lets the commit wait up to
// delay: if the message is acknowledged (Ack, AckAsync) before then, it is
// never written to disk at all. done is called exactly once, from the
// writer or from the acknowledging goroutine, when the message is durable,
// when it was acknowledged before its commit (err nil in both cases), or
// when it was refused (err). A reader sees the entry at once, before it is
// committed: a sender may send it while the commit waits.
//
// This is how the gateway spares the flash: a message the upstream
// acknowledges within delay costs no write, one it does not is
// group-committed when delay runs out. What a crash loses is only what
// waited, uncommitted and unacknowledged, for at most delay — nothing whose
// done was called with nil.
//
// Ordering: done calls of appends with the same delay come in call order;
// an append with a shorter delay may complete before an earlier one with a
// longer delay. Sequence numbers (and so Read order) always follow call
// order. Commits come early when another deferred message is due (all
// waiting commit together), when Options.DeferredGroup messages (or more
// than MaxDeferred, or MaxDeferredBytes) are waiting, when another write
// commits anyway and the message has waited at least half its delay, and
// at Close. A delay ≤ 0 commits at once, exactly like AppendAsync.
func (q *Queue) AppendDeferred(m Message, delay time.Duration, done func(seq uint64, err error)) {
	if err := validateMessage(m); err != nil {
		// An op through the writer, so that it fails in order with the others.
		o := &op{apply: func(*batch) error { return reject(err) }, done: func(err error) { done(0, err) }}
		if err := q.d.submit(o); err != nil {
			done(0, err)
		}
		return
	}
	if err := q.enqueue(q.appendOp(m, delay, done)); err != nil {
		done(0, err)
	}
}

// pendEntry is an appended entry whose commit has not completed: readers
// see it, an Ack of a deferred one cancels its commit.
type pendEntry struct {
	seq      uint64
	entry    Entry
	stamp    time.Duration // CLOCK_BOOTTIME at append, for Entry.Age
	size     uint64
	op       *op
	deferred bool // an Ack may cancel the commit
}

// enqueue assigns the entry the next sequence number, hands its op to the
// writer and makes it visible to readers, all under q.mu: a reader never
// sees an entry whose op is not submitted (its Ack could overtake the
// append), nor a later entry before an earlier one.
func (q *Queue) enqueue(o *op, pe *pendEntry) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	pe.seq, pe.entry.Seq = q.lastSeq+1, q.lastSeq+1
	if err := q.d.submit(o); err != nil {
		return err
	}
	q.lastSeq++
	q.pend = append(q.pend, pe)
	close(q.signal)
	q.signal = make(chan struct{})
	return nil
}

// dropPending removes entry seq from the pending entries, if there.
func (q *Queue) dropPending(seq uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if i, ok := q.pendIndex(seq); ok {
		q.pend = slices.Delete(q.pend, i, i+1)
	}
}

// pendIndex finds seq in q.pend, which is sorted by seq. Called with q.mu held.
func (q *Queue) pendIndex(seq uint64) (int, bool) {
	return slices.BinarySearchFunc(q.pend, seq, func(pe *pendEntry, s uint64) int {
		switch {
		case pe.seq < s:
			return -1
		case pe.seq > s:
			return 1
		}
		return 0
	})
}

// pendingAfter returns up to max deferred entries with Seq > after, oldest
// first; hold: the sequence number of the first entry after after that is
// written ahead and not yet committed (0: none); and last, the newest
// sequence number assigned so far. Readers see nothing from hold on until
// that entry is committed: an entry written ahead (QoS 2, say) must be on
// disk before it is sent, and a reader must not pass it. Nor do they see
// entries after last in this round: one appended after this snapshot may be
// deferred (not among out) and precede one that is already on disk.
func (q *Queue) pendingAfter(after uint64, max int) (out []Entry, hold, last uint64) {
	now := q.d.clock.boottime()
	q.mu.Lock()
	defer q.mu.Unlock()
	i, _ := q.pendIndex(after + 1)
	for _, pe := range q.pend[i:] {
		if !pe.deferred {
			return out, pe.seq, q.lastSeq
		}
		if len(out) < max {
			e := pe.entry
			if e.Age = now - pe.stamp; e.Age < 0 {
				e.Age = 0
			}
			out = append(out, e)
		}
	}
	return out, 0, q.lastSeq
}

// pendingDepth returns the messages and bytes waiting for their commit and
// not yet handed to the writer (those are counted by the queue's state).
func (q *Queue) pendingDepth() (msgs, bytes uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, pe := range q.pend {
		if pe.op.state.Load() == opPending {
			msgs++
			bytes += pe.size
		}
	}
	return msgs, bytes
}

// cancelPending cancels the commit of the deferred entries among seqs and
// completes their appends as delivered. It returns the seqs that are on
// disk or on their way there, which the caller deletes from the disk.
func (q *Queue) cancelPending(seqs []uint64) (rest []uint64) {
	var done []*pendEntry
	q.mu.Lock()
	if len(q.pend) == 0 {
		q.mu.Unlock()
		return seqs
	}
	for _, seq := range seqs {
		i, ok := q.pendIndex(seq)
		if ok && q.pend[i].deferred && q.pend[i].op.cancel() {
			done = append(done, q.pend[i])
			q.pend = slices.Delete(q.pend, i, i+1)
			continue
		}
		rest = append(rest, seq)
	}
	q.mu.Unlock()
	if len(done) > 0 {
		q.unwritten.Add(uint64(len(done)))
		q.d.wakeWriter() // let it forget the cancelled ops
	}
	for _, pe := range done {
		pe.op.done(errDelivered)
	}
	return rest
}

// errDelivered tells an append's done that the entry was acknowledged before
// its commit; the caller sees nil.
var errDelivered = fmt.Errorf("offline: delivered before commit")

// promote makes a deferred entry's commit due now (MarkReceived, Quarantine:
// the entry must be on disk before they apply).
func (q *Queue) promote(seq uint64) {
	q.mu.Lock()
	var o *op
	if i, ok := q.pendIndex(seq); ok && q.pend[i].deferred {
		o = q.pend[i].op
	}
	q.mu.Unlock()
	if o != nil {
		q.d.mu.Lock()
		o.due = time.Time{}
		q.d.mu.Unlock()
	}
}

//

// takeDeferredLocked moves the deferred appends that should commit now into
// ops and returns how long until the next one is due (0: none waiting).
// When one is due, all commit: an upstream that has not acknowledged the
// oldest in time will hardly acknowledge the others in theirs, and one
// commit for all spares the flash (sensor readings during an outage: one
// commit per delay, not per half delay). commitAnyway says that a commit
// happens regardless: entries that waited half their delay join it. Called
// with d.mu held.
func (d *DB) takeDeferredLocked(now time.Time, commitAnyway bool) (taken []*op, next time.Duration) {
	if len(d.deferred) == 0 {
		return nil, 0
	}
	live, bytes, anyDue := 0, 0, false
	for _, o := range d.deferred {
		if o.state.Load() == opPending {
			live++
			bytes += o.size
			anyDue = anyDue || !o.due.After(now)
		}
	}
	force := d.closed || live >= d.opts.DeferredGroup || live > d.opts.MaxDeferred || int64(bytes) > d.opts.MaxDeferredBytes
	keep := d.deferred[:0]
	var nextDue time.Time
	for _, o := range d.deferred {
		switch {
		case o.state.Load() != opPending: // cancelled by an Ack: forget it
		case force || anyDue || commitAnyway && !o.early.After(now):
			if o.state.CompareAndSwap(opPending, opTaken) {
				taken = append(taken, o)
			}
		default:
			keep = append(keep, o)
			if nextDue.IsZero() || o.due.Before(nextDue) {
				nextDue = o.due
			}
		}
	}
	clear(d.deferred[len(keep):])
	d.deferred = keep
	if !nextDue.IsZero() {
		next = max(nextDue.Sub(now), time.Nanosecond)
	}
	return taken, next
}

// wakeWriter makes the writer look at its work again.
func (d *DB) wakeWriter() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}
