package offline

import (
	"context"
	"fmt"
	"math"
	"sync"
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

	mu     sync.Mutex
	st     queueState    // as of the last commit
	signal chan struct{} // closed and replaced when entries are committed
}

// queueState is a queue's depth (persisted) and counters (since Open).
type queueState struct {
	queueMeta
	appended, acked                      uint64
	expired, overflowOldest, overflowNew uint64
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
	var m queueMeta
	err := d.do(context.Background(), func(b *batch) (err error) {
		m, err = createQueue(b.tx, q.bucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("offline: queue %q: %w", name, err)
	}
	q.st.queueMeta = m
	d.queues[name] = q
	return q, nil
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
	res := make(chan result, 1)
	o := q.appendOp(m, func(seq uint64, err error) { res <- result{seq, err} })
	if err := q.d.submit(o); err != nil {
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
	if err := q.d.submit(q.appendOp(m, done)); err != nil {
		done(0, err)
	}
}

// appendOp encodes m now (so the caller may reuse its buffers) and returns
// the op that appends it. An invalid message becomes an op that fails in
// order with the others.
func (q *Queue) appendOp(m Message, done func(uint64, error)) *op {
	if err := validateMessage(m); err != nil {
		return &op{apply: func(*batch) error { return reject(err) }, done: func(err error) { done(0, err) }}
	}
	rec := record{msg: m, bootSeq: q.d.boot.seq, bootStamp: q.d.clock.boottime(), wall: q.d.clock.now()}
	val, size := encodeRecord(nil, &rec), rec.size()
	var seq uint64
	return &op{
		apply: func(b *batch) (err error) {
			seq, err = b.appendEntry(q, val, size)
			return err
		},
		done: func(err error) {
			if err != nil {
				seq = 0
			}
			done(seq, err)
		},
	}
}

// validateMessage rejects what can never be stored.
func validateMessage(m Message) error {
	switch {
	case m.QoS > 2:
		return fmt.Errorf("%w: QoS %d", ErrInvalid, m.QoS)
	case m.TTL < 0:
		return fmt.Errorf("%w: negative TTL %v", ErrInvalid, m.TTL)
	case len(m.Topic)+len(m.Payload) > bolt.MaxValueSize-64:
		return fmt.Errorf("%w: message of %d bytes", ErrInvalid, len(m.Topic)+len(m.Payload))
	}
	return nil
}

// Read returns up to max entries with Seq > after, oldest first. It blocks
// until there is at least one, ctx ends (ctx's error) or the DB is closed
// (ErrClosed); it does not poll. Entries whose TTL ran out are not returned:
// they are deleted and counted as "expired". Entries that do not decode are
// moved to the quarantine bucket. A reader typically passes the Seq of the
// last entry it got as the next after, and 0 after a restart.
func (q *Queue) Read(ctx context.Context, after uint64, max int) ([]Entry, error) {
	if max <= 0 {
		return nil, fmt.Errorf("%w: read max %d", ErrInvalid, max)
	}
	for {
		wait := q.waitChan()
		res, err := q.scan(after, max)
		if err != nil {
			return nil, err
		}
		q.dropDead(res)
		if len(res.live) > 0 {
			return res.live, nil
		}
		if res.last > after {
			after = res.last // only dead entries so far: look further
			continue
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, fmt.Errorf("offline: read: %w", ctx.Err())
		case <-q.d.quit:
			return nil, ErrClosed
		}
	}
}

// Ack deletes the entries durably (they were delivered). Sequence numbers
// not in the queue are ignored.
func (q *Queue) Ack(seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	seqs = append([]uint64(nil), seqs...)
	return q.d.do(context.Background(), func(b *batch) error {
		return b.removeEntries(q, seqs, removeAcked)
	})
}

// MarkReceived durably records that the upstream acknowledged the QoS 2
// PUBLISH of entry seq with PUBREC: after a restart, Entry.Received tells the
// sender to continue with PUBREL instead of publishing again. An entry
// marked received never expires. It returns ErrNotFound if seq is gone.
func (q *Queue) MarkReceived(seq uint64) error {
	return q.d.do(context.Background(), func(b *batch) error {
		return b.markReceived(q, seq)
	})
}

// Quarantine moves entry seq out of the queue into the queue's quarantine
// bucket, with reason, e.g. when the upstream rejects it for good. It
// returns ErrNotFound if seq is gone. See ForEachQuarantined.
func (q *Queue) Quarantine(seq uint64, reason string) error {
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
	// Dropped counts lost entries since Open by reason: DroppedExpired,
	// DroppedOverflowOldest, DroppedOverflowNew (all three keys present).
	Dropped map[string]uint64
}

// Stats returns the queue's statistics.
func (q *Queue) Stats() QueueStats {
	st := q.snapshot()
	return QueueStats{
		Name:        q.name,
		Messages:    st.messages,
		Bytes:       st.bytes,
		OldestAge:   q.oldestAge(),
		Quarantined: st.quarantined,
		Appended:    st.appended,
		Acked:       st.acked,
		Dropped: map[string]uint64{
			DroppedExpired:        st.expired,
			DroppedOverflowOldest: st.overflowOldest,
			DroppedOverflowNew:    st.overflowNew,
		},
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

// maxDeadPerScan bounds the expired or undecodable entries one read
// transaction skips, so that a long run of them cannot make a Read hold its
// transaction (and memory for their sequence numbers) for long.
const maxDeadPerScan = 4096

// scanResult is what one read transaction found after a sequence number.
type scanResult struct {
	live    []Entry
	expired []uint64
	bad     map[uint64]string // undecodable entries and why
	last    uint64            // highest seq looked at
}

// scan reads up to max live entries after seq after, seeking the cursor
// there: the cost does not depend on the queue's depth.
func (q *Queue) scan(after uint64, max int) (scanResult, error) {
	var res scanResult
	if after == math.MaxUint64 {
		return res, nil
	}
	now := q.d.clock.boottime()
	err := q.d.view(func(tx *bolt.Tx) error {
		eb, err := queueEntries(tx, q)
		if err != nil {
			return err
		}
		c, dead := eb.Cursor(), 0
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(res.live) < max && dead < maxDeadPerScan; k, v = c.Next() {
			seq, ok := keySeq(k)
			if !ok {
				continue
			}
			res.last = seq
			r, err := decodeRecord(v)
			switch {
			case err != nil:
				if res.bad == nil {
					res.bad = make(map[uint64]string)
				}
				res.bad[seq] = err.Error()
				dead++
			case q.d.expired(&r, now):
				res.expired = append(res.expired, seq)
				dead++
			default:
				res.live = append(res.live, r.entry(seq))
			}
		}
		return nil
	})
	return res, err
}

// dropDead deletes expired entries and quarantines undecodable ones, without
// waiting: Read has already skipped them.
func (q *Queue) dropDead(res scanResult) {
	if len(res.expired) == 0 && len(res.bad) == 0 {
		return
	}
	o := &op{
		apply: func(b *batch) error {
			if err := b.removeEntries(q, res.expired, removeExpired); err != nil {
				return err
			}
			for seq, why := range res.bad {
				if err := b.quarantine(q, seq, "stored entry does not decode: "+why); err != nil && !isRejected(err) {
					return err
				}
			}
			return nil
		},
		done: func(err error) {
			if err != nil {
				q.d.log.Warn("offline: dropping dead entries failed; retried on a later read",
					"queue", q.name, "err", err)
			}
		},
	}
	_ = q.d.submit(o) // fails only when closed: the next Open's reads retry
}

// oldestAge returns the age of the first entry, 0 when empty or closed.
func (q *Queue) oldestAge() time.Duration {
	var age time.Duration
	now := q.d.clock.boottime()
	_ = q.d.view(func(tx *bolt.Tx) error {
		eb, err := queueEntries(tx, q)
		if err != nil {
			return err
		}
		if _, v := eb.Cursor().First(); v != nil {
			if r, err := decodeRecord(v); err == nil {
				age = q.d.age(&r, now)
			}
		}
		return nil
	})
	return age
}

// expired reports whether r's TTL ran out at boot time now. An entry the
// upstream already received (QoS 2 PUBREC) is being completed, not expired.
func (d *DB) expired(r *record, now time.Duration) bool {
	return r.msg.TTL > 0 && !r.received && d.age(r, now) >= r.msg.TTL
}

// age is how long r has been queued, by the boot-relative clock: since its
// append when it was appended in this boot, otherwise since this boot first
// opened the DB. Wall-clock steps never change it.
func (d *DB) age(r *record, now time.Duration) time.Duration {
	since := d.boot.firstSeen
	if r.bootSeq == d.boot.seq {
		since = r.bootStamp
	}
	return max(now-since, 0)
}
