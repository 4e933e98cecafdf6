package offline

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Overflow is what Append does when a queue is at its bounds.
type Overflow int

const (
	// DropOldest deletes the oldest entries until the new message fits
	// (counted as "overflow_oldest"). It is the default.
	DropOldest Overflow = iota
	// DropNew refuses the new message with ErrFull (counted as
	// "overflow_new").
	DropNew
)

// String returns the config spelling: "drop_oldest" or "drop_new".
func (o Overflow) String() string {
	switch o {
	case DropOldest:
		return "drop_oldest"
	case DropNew:
		return "drop_new"
	}
	return fmt.Sprintf("Overflow(%d)", int(o))
}

// ParseOverflow parses the config spelling of an Overflow.
func ParseOverflow(s string) (Overflow, error) {
	switch s {
	case "drop_oldest", "":
		return DropOldest, nil
	case "drop_new":
		return DropNew, nil
	}
	return 0, fmt.Errorf("%w: overflow policy %q (want drop_oldest or drop_new)", ErrInvalid, s)
}

// Reasons in QueueStats.Dropped.
const (
	DroppedExpired        = "expired"         // TTL ran out before delivery
	DroppedOverflowOldest = "overflow_oldest" // deleted by DropOldest to make room
	DroppedOverflowNew    = "overflow_new"    // refused with ErrFull
)

// QueueOptions bound a queue. Zero values mean unbounded.
type QueueOptions struct {
	// MaxMessages is the most entries the queue holds.
	MaxMessages int
	// MaxBytes is the most topic+payload bytes the queue holds (the file
	// is larger: keys, headers and bbolt pages come on top).
	MaxBytes int64
	// Overflow is the policy at the bounds. Default DropOldest.
	Overflow Overflow
}

// Queue is a durable FIFO in a DB. Entries are numbered by an increasing
// sequence number; they stay until acknowledged, quarantined, expired or
// dropped by the overflow policy. A Queue is safe for concurrent use.
type Queue struct {
	d      *DB
	name   string
	bucket []byte // queuePrefix + name
	opts   QueueOptions

	mu      sync.Mutex
	st      queueState    // as of the last commit
	signal  chan struct{} // closed and replaced when entries are appended
	lastSeq uint64        // the last sequence number assigned
	pend    []*pendEntry  // appended, commit not completed, by seq

	unwritten atomic.Uint64 // deferred appends acknowledged before their commit

	// readTo is the highest sequence number a reader may have sent: the
	// last queued at Open, then the highest Read returned (see orphans.go).
	readTo atomic.Uint64
	// orphans counts the entries of the orphans bucket as of the last
	// commit; orphanGen grows with every commit that added some.
	orphans   atomic.Int64
	orphanGen atomic.Uint64
}

// queueState is a queue's depth and drop counters (persisted) and its
// other counters (since Open).
type queueState struct {
	queueMeta
	appended, acked uint64
}

// Queue returns the queue with the given name, creating it on first use.
// Calling it again with the same name returns the same *Queue; with other
// options it fails.
func (d *DB) Queue(name string, o QueueOptions) (*Queue, error) {
	if name == "" || len(queuePrefix)+len(name) > bolt.MaxKeySize {
		return nil, fmt.Errorf("%w: queue name %q", ErrInvalid, name)
	}
	if o.Overflow != DropOldest && o.Overflow != DropNew {
		return nil, fmt.Errorf("%w: overflow policy %v", ErrInvalid, o.Overflow)
	}
	d.queueMu.Lock()
	defer d.queueMu.Unlock()
	if q, ok := d.queues[name]; ok {
		if q.opts != o {
			return nil, fmt.Errorf("%w: queue %q is already open with options %+v", ErrInvalid, name, q.opts)
		}
		return q, nil
	}
	q := &Queue{d: d, name: name, bucket: []byte(queuePrefix + name), opts: o, signal: make(chan struct{})}
	m, last, err := d.loadQueue(q)
	if err != nil {
		return nil, fmt.Errorf("offline: queue %q: %w", name, err)
	}
	q.st.queueMeta, q.lastSeq = m, last
	q.readTo.Store(last)
	q.orphanGen.Store(1)
	d.queues[name] = q
	return q, nil
}

// loadQueue returns the persisted depth of q and its last sequence number,
// creating its buckets first if needed. An existing queue is only read, so
// that a gateway whose disk is full still starts and drains.
func (d *DB) loadQueue(q *Queue) (m queueMeta, last uint64, err error) {
	exists := false
	err = d.view(func(tx *bolt.Tx) error {
		bk := tx.Bucket(q.bucket)
		if bk == nil || bk.Bucket(entriesBucket) == nil || bk.Bucket(quarantineBucket) == nil {
			return nil
		}
		v := bk.Get(queueMetaKey)
		if v == nil {
			return nil
		}
		var err error
		m, err = decodeQueueMeta(v)
		exists, last = err == nil, lastSeqOf(bk)
		q.orphans.Store(countOrphans(bk))
		return nil
	})
	if err != nil || exists {
		return m, last, err
	}
	err = d.do(context.Background(), func(b *batch) (err error) {
		m, err = createQueue(b.tx, q.bucket)
		last = lastSeqOf(b.tx.Bucket(q.bucket))
		return err
	})
	return m, last, err
}

// lastSeqOf returns the highest sequence number a queue bucket has used:
// the entries bucket's sequence, which every append raises to its own
// (appendEntry) and NextSequence did before.
func lastSeqOf(bk *bolt.Bucket) uint64 {
	if eb := bk.Bucket(entriesBucket); eb != nil {
		return eb.Sequence()
	}
	return 0
}

// Append stores m and returns its sequence number once it is on disk
// (committed and fsync'd, possibly together with other operations). If ctx
// ends first, Append returns ctx's error only if the message was not
// stored; once the writer has it, Append waits for the commit.
func (q *Queue) Append(ctx context.Context, m Message) (seq uint64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("offline: append: %w", err)
	}
	type result struct {
		seq uint64
		err error
	}
	if err := validateMessage(m); err != nil {
		return 0, err
	}
	res := make(chan result, 1)
	o, pe := q.appendOp(m, 0, func(seq uint64, err error) { res <- result{seq, err} })
	if err := q.enqueue(o, pe); err != nil {
		return 0, err
	}
	r := awaitOp(ctx, o, res)
	return r.seq, r.err
}

// AppendAsync is Append without waiting: done is called once the message is
// on disk (err nil) or was refused, from the DB's writer goroutine, in the
// order of the AppendAsync calls. done must be quick and must not call the
// DB's waiting methods (Append, Ack, KV.Put, …), which would wait for the
// writer it runs on; AppendAsync is fine. After Close, done(0, ErrClosed) is
// called before AppendAsync returns.
func (q *Queue) AppendAsync(m Message, done func(seq uint64, err error)) {
	q.AppendDeferred(m, 0, done)
}

// appendOp encodes m (valid) now, so the caller may reuse its buffers, and
// returns the op that commits it, deferred by delay when positive (see
// AppendDeferred), and its pending entry, for enqueue. The op's done
// removes the pending entry before it calls done.
func (q *Queue) appendOp(m Message, delay time.Duration, done func(uint64, error)) (*op, *pendEntry) {
	rec := record{msg: m, bootSeq: q.d.boot.seq, bootStamp: q.d.clock.boottime(), wall: q.d.clock.now()}
	val, size := encodeRecord(nil, &rec), rec.size()
	rec.msg.Payload = val[len(val)-len(m.Payload):] // the entry shares val, which nothing modifies
	if len(m.Props) > 0 {
		end := len(val) - len(m.Payload)
		rec.msg.Props = val[end-len(m.Props) : end : end]
	}
	pe := &pendEntry{size: size, entry: rec.entry(0), stamp: rec.bootStamp, deferred: delay > 0}
	o := &op{size: int(size)}
	if delay > 0 {
		now := time.Now()
		o.due, o.early = now.Add(delay), now.Add(delay/2)
	}
	pe.op = o
	// pe.seq is set by enqueue, which publishes pe (and o) to others.
	o.apply = func(b *batch) error { return b.appendEntry(q, pe.seq, val, size) }
	o.done = func(err error) {
		q.dropPending(pe.seq)
		if !pe.deferred {
			q.notify() // readers held back at it (pendingAfter's limit) go on
		}
		if err != nil && err != errDelivered {
			done(0, err)
			return
		}
		done(pe.seq, nil)
	}
	return o, pe
}

// validateMessage rejects what can never be stored.
func validateMessage(m Message) error {
	switch {
	case m.QoS > 2:
		return fmt.Errorf("%w: QoS %d", ErrInvalid, m.QoS)
	case m.TTL < 0:
		return fmt.Errorf("%w: negative TTL %v", ErrInvalid, m.TTL)
	case len(m.Topic)+len(m.Props)+len(m.Payload) > bolt.MaxValueSize-64:
		return fmt.Errorf("%w: message of %d bytes", ErrInvalid, len(m.Topic)+len(m.Props)+len(m.Payload))
	}
	return nil
}

// Ack deletes the entries durably (they were delivered). Sequence numbers
// not in the queue are ignored.
func (q *Queue) Ack(seqs ...uint64) error {
	if seqs = q.cancelPending(seqs); len(seqs) == 0 {
		return nil
	}
	return q.d.doOp(context.Background(), q.ackOp(seqs))
}

// AckAsync is Ack without waiting: done (which may be nil) is called once
// the removal is durable, on the writer goroutine, so it must be quick.
// Small acks from one caller accumulate while they linger (see
// Options.AckLinger) and commit together once they add up to
// lingerMaxSeqs entries, so a steady stream of acks never waits.
func (q *Queue) AckAsync(seqs []uint64, done func(error)) {
	if done == nil {
		done = func(error) {}
	}
	if seqs = q.cancelPending(seqs); len(seqs) == 0 {
		done(nil)
		return
	}
	o := q.ackOp(seqs)
	o.done = done
	if err := q.d.submit(o); err != nil {
		done(err)
	}
}

// ackOp is the write op removing seqs (copied), lazy when small.
func (q *Queue) ackOp(seqs []uint64) *op {
	seqs = append([]uint64(nil), seqs...)
	return &op{
		apply:  func(b *batch) error { return b.removeEntries(q, seqs, removeAcked) },
		lazy:   len(seqs) < lingerMaxSeqs,
		weight: len(seqs),
	}
}

// lingerMaxSeqs is the size from which an Ack commits at once: under load
// acks come in large batches and never wait (see Options.AckLinger).
const lingerMaxSeqs = 64

// MarkReceived durably records that the upstream acknowledged the QoS 2
// PUBLISH of entry seq with PUBREC: after a restart, Entry.Received tells the
// sender to continue with PUBREL instead of publishing again. An entry
// marked received never expires. It returns ErrNotFound if seq is gone.
func (q *Queue) MarkReceived(seq uint64) error {
	res := make(chan error, 1)
	q.MarkReceivedAsync(seq, func(err error) { res <- err })
	return <-res
}

// MarkReceivedAsync is MarkReceived without waiting: done is called once
// the mark is durable, or with the error, on the writer goroutine (it must
// be quick). Marks issued in order become durable in that order: a crash
// never keeps a later mark without an earlier one.
func (q *Queue) MarkReceivedAsync(seq uint64, done func(error)) {
	q.promote(seq)
	o := &op{apply: func(b *batch) error { return b.markReceived(q, seq) }, done: done}
	if err := q.d.submit(o); err != nil {
		done(err)
	}
}

// Quarantine moves entry seq out of the queue into the queue's quarantine
// bucket, with reason, e.g. when the upstream rejects it for good. It
// returns ErrNotFound if seq is gone. See ForEachQuarantined.
func (q *Queue) Quarantine(seq uint64, reason string) error {
	q.promote(seq)
	return q.d.do(context.Background(), func(b *batch) error {
		return b.quarantine(q, seq, reason)
	})
}

// QueueStats describes a queue.
type QueueStats struct {
	// Name is the queue's name.
	Name string
	// Messages and Bytes (topic+payload) are the current depth; they
	// survive restarts.
	Messages uint64
	Bytes    uint64
	// OldestAge is the age of the oldest entry (boot-relative, see the
	// package doc), 0 when empty.
	OldestAge time.Duration
	// Quarantined is the number of entries in the quarantine bucket.
	Quarantined uint64
	// Appended and Acked count entries stored and acknowledged since Open.
	Appended uint64
	Acked    uint64
	// Unwritten counts deferred appends (AppendDeferred) acknowledged before
	// their commit, since Open: messages that never touched the disk. They
	// are not in Appended or Acked.
	Unwritten uint64
	// Deferred is the part of Messages still waiting in memory for its
	// commit.
	Deferred uint64
	// Dropped counts lost entries by reason: DroppedExpired,
	// DroppedOverflowOldest, DroppedOverflowNew (all three keys present).
	// They are stored with the queue and count over its whole life, across
	// restarts.
	Dropped map[string]uint64
}

// Stats returns the queue's statistics.
func (q *Queue) Stats() QueueStats {
	st := q.snapshot()
	pm, pb := q.pendingDepth()
	return QueueStats{
		Name:        q.name,
		Messages:    st.messages + pm,
		Bytes:       st.bytes + pb,
		Unwritten:   q.unwritten.Load(),
		Deferred:    pm,
		OldestAge:   q.oldestAge(),
		Quarantined: st.quarantined,
		Appended:    st.appended,
		Acked:       st.acked,
		Dropped:     st.dropped(),
	}
}

// ForEachQuarantined calls fn for each quarantined entry, oldest first, with
// the reason and time of the quarantine. fn runs outside any transaction and
// may use the DB. An entry that does not decode is passed with only Seq set.
func (q *Queue) ForEachQuarantined(fn func(e Entry, reason string, at time.Time) error) error {
	return q.d.forEachPaged([][]byte{q.bucket, quarantineBucket}, func(k, v []byte) error {
		seq, _ := keySeq(k)
		qr, err := decodeQuarantineRecord(v)
		if err != nil {
			return fn(Entry{Seq: seq}, "undecodable quarantine record: "+err.Error(), time.Time{})
		}
		e := Entry{Seq: seq}
		if r, err := decodeRecord(qr.entry); err == nil {
			e = r.entry(seq)
		}
		return fn(e, qr.reason, qr.at)
	})
}

//

// snapshot returns the state as of the last commit.
func (q *Queue) snapshot() queueState {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.st
}

// setState installs the state of a committed batch.
func (q *Queue) setState(st queueState) {
	q.mu.Lock()
	q.st = st
	q.mu.Unlock()
}

// waitChan returns the channel that the next committed append closes.
func (q *Queue) waitChan() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.signal
}

// notify wakes the Reads waiting for entries.
func (q *Queue) notify() {
	q.mu.Lock()
	close(q.signal)
	q.signal = make(chan struct{})
	q.mu.Unlock()
}
