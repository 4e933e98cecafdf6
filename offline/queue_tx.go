package offline

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The queue operations as they run inside a batch's write transaction. Each
// one either changes the transaction and the batch's working state, or
// returns a rejection having changed nothing.

// createQueue creates the buckets of a queue if needed and returns its
// persisted depth.
func createQueue(tx *bolt.Tx, name []byte) (queueMeta, error) {
	bk, err := tx.CreateBucketIfNotExists(name)
	if err != nil {
		return queueMeta{}, err
	}
	for _, sub := range [][]byte{entriesBucket, quarantineBucket} {
		if _, err := bk.CreateBucketIfNotExists(sub); err != nil {
			return queueMeta{}, err
		}
	}
	m, err := loadQueueMeta(bk)
	if err != nil {
		return queueMeta{}, err
	}
	return m, bk.Put(queueMetaKey, m.encode()) // a missing or unreadable record was recounted
}

// loadQueueMeta returns the depth stored in a queue bucket. When the record
// is missing (a new queue) or does not decode, the entries are counted
// instead, which takes time proportional to the depth.
func loadQueueMeta(bk *bolt.Bucket) (queueMeta, error) {
	if v := bk.Get(queueMetaKey); v != nil {
		if m, err := decodeQueueMeta(v); err == nil {
			return m, nil
		}
	}
	var m queueMeta
	if eb := bk.Bucket(entriesBucket); eb != nil {
		if err := eb.ForEach(func(_, v []byte) error {
			m.messages++
			m.bytes += entrySize(v)
			return nil
		}); err != nil {
			return m, err
		}
	}
	if xb := bk.Bucket(quarantineBucket); xb != nil {
		m.quarantined = uint64(xb.Stats().KeyN)
	}
	return m, nil
}

// queueEntries returns the entries bucket of q in tx.
func queueEntries(tx *bolt.Tx, q *Queue) (*bolt.Bucket, error) {
	if bk := tx.Bucket(q.bucket); bk != nil {
		if eb := bk.Bucket(entriesBucket); eb != nil {
			return eb, nil
		}
	}
	return nil, fmt.Errorf("offline: queue %q: bucket missing", q.name)
}

// queueBuckets returns the entries and quarantine buckets of q.
func (b *batch) queueBuckets(q *Queue) (entries, quarantine *bolt.Bucket, err error) {
	bk := b.tx.Bucket(q.bucket)
	if bk != nil {
		entries, quarantine = bk.Bucket(entriesBucket), bk.Bucket(quarantineBucket)
	}
	if entries == nil || quarantine == nil {
		return nil, nil, fmt.Errorf("offline: queue %q: bucket missing", q.name)
	}
	return entries, quarantine, nil
}

// appendFillPercent is how full bbolt packs the pages of an entries bucket
// when it splits them. Keys only ever grow, so split pages are never filled
// later: bbolt's default of one half would double the file.
const appendFillPercent = 0.95

// appendEntry applies the queue's bounds, then stores val (an encoded
// record of size bytes) under sequence number seq, assigned at append time.
func (b *batch) appendEntry(q *Queue, seq uint64, val []byte, size uint64) error {
	eb, _, err := b.queueBuckets(q)
	if err != nil {
		return err
	}
	eb.FillPercent = appendFillPercent
	st := b.state(q)
	if q.opts.MaxBytes > 0 && size > uint64(q.opts.MaxBytes) {
		st.overflowNew++
		return reject(fmt.Errorf("%w: message of %d bytes exceeds MaxBytes %d", ErrFull, size, q.opts.MaxBytes))
	}
	if !q.fits(st, size) {
		if q.opts.Overflow == DropNew {
			st.overflowNew++
			return reject(fmt.Errorf("%w: queue %q holds %d messages, %d bytes", ErrFull, q.name, st.messages, st.bytes))
		}
		if err := b.dropOldest(q, eb, st, size); err != nil {
			return err
		}
	}
	if err := eb.Put(seqKey(seq), val); err != nil {
		return fmt.Errorf("offline: queue %q: put %d: %w", q.name, seq, err)
	}
	if seq > eb.Sequence() {
		if err := eb.SetSequence(seq); err != nil {
			return fmt.Errorf("offline: queue %q: set sequence: %w", q.name, err)
		}
	}
	st.messages++
	st.bytes += size
	st.appended++
	b.appended[q] = true
	return nil
}

// fits reports whether one more entry of size bytes stays within bounds.
func (q *Queue) fits(st *queueState, size uint64) bool {
	o := q.opts
	return (o.MaxMessages <= 0 || st.messages < uint64(o.MaxMessages)) &&
		(o.MaxBytes <= 0 || st.bytes+size <= uint64(o.MaxBytes))
}

// dropOldest deletes entries from the front until one of size bytes fits.
func (b *batch) dropOldest(q *Queue, eb *bolt.Bucket, st *queueState, size uint64) error {
	c := eb.Cursor()
	for !q.fits(st, size) {
		k, v := c.First()
		if k == nil { // the meta over-counted: the bucket is empty
			st.messages, st.bytes = 0, 0
			return nil
		}
		sz := entrySize(v)
		if seq, ok := keySeq(k); ok {
			if err := b.noteOrphan(q, seq, v); err != nil {
				return err
			}
		}
		if err := c.Delete(); err != nil {
			return fmt.Errorf("offline: queue %q: drop oldest: %w", q.name, err)
		}
		st.decrement(sz)
		st.overflowOldest++
	}
	return nil
}

// decrement removes one entry of size bytes from the depth.
func (st *queueState) decrement(size uint64) {
	st.messages -= min(st.messages, 1)
	st.bytes -= min(st.bytes, size)
}

// removal says why removeEntries deletes entries, for the counters.
type removal int

const (
	removeAcked removal = iota
	removeExpired
)

// removeEntries deletes the entries that exist among seqs.
func (b *batch) removeEntries(q *Queue, seqs []uint64, why removal) error {
	if len(seqs) == 0 {
		return nil
	}
	eb, _, err := b.queueBuckets(q)
	if err != nil {
		return err
	}
	st := b.state(q)
	before := st.messages
	for _, seq := range seqs {
		k := seqKey(seq)
		v := eb.Get(k)
		if v == nil {
			continue
		}
		sz := entrySize(v)
		if why != removeAcked {
			if err := b.noteOrphan(q, seq, v); err != nil {
				return err
			}
		}
		if err := eb.Delete(k); err != nil {
			return fmt.Errorf("offline: queue %q: delete %d: %w", q.name, seq, err)
		}
		st.decrement(sz)
		if why == removeAcked {
			st.acked++
		} else {
			st.expired++
		}
	}
	if before > 0 && st.messages == 0 {
		b.drained = true
	}
	return nil
}

// markReceived sets the received flag of entry seq.
func (b *batch) markReceived(q *Queue, seq uint64) error {
	eb, _, err := b.queueBuckets(q)
	if err != nil {
		return err
	}
	k := seqKey(seq)
	v := eb.Get(k)
	if v == nil {
		return reject(fmt.Errorf("%w: queue %q seq %d", ErrNotFound, q.name, seq))
	}
	if len(v) <= flagsOffset || v[0] != entryVersion {
		return reject(fmt.Errorf("%w: queue %q seq %d", errMalformed, q.name, seq))
	}
	nv := append([]byte(nil), v...)
	nv[flagsOffset] |= flagReceived
	if err := eb.Put(k, nv); err != nil {
		return fmt.Errorf("offline: queue %q: mark %d received: %w", q.name, seq, err)
	}
	return nil
}

// quarantine moves entry seq to the quarantine bucket.
func (b *batch) quarantine(q *Queue, seq uint64, reason string) error {
	eb, xb, err := b.queueBuckets(q)
	if err != nil {
		return err
	}
	k := seqKey(seq)
	v := eb.Get(k)
	if v == nil {
		return reject(fmt.Errorf("%w: queue %q seq %d", ErrNotFound, q.name, seq))
	}
	sz := entrySize(v)
	if err := b.noteOrphan(q, seq, v); err != nil {
		return err
	}
	rec := quarantineRecord{at: b.d.clock.now(), reason: reason, entry: v}.encode()
	if err := xb.Put(k, rec); err != nil {
		return fmt.Errorf("offline: queue %q: quarantine %d: %w", q.name, seq, err)
	}
	if err := eb.Delete(k); err != nil {
		return fmt.Errorf("offline: queue %q: quarantine %d: %w", q.name, seq, err)
	}
	st := b.state(q)
	before := st.messages
	st.decrement(sz)
	st.quarantined++
	if before > 0 && st.messages == 0 {
		b.drained = true
	}
	return nil
}

// isRejected reports whether err is a rejection (see reject).
func isRejected(err error) bool {
	var rj rejected
	return errors.As(err, &rj)
}
