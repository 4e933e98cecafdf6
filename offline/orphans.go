package offline

import (
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Orphans: QoS 2 entries that left the queue undelivered — dropped by the
// overflow policy, expired, quarantined — after a reader may have sent them.
//
// A QoS 2 PUBLISH leaves state behind at the receiver: it holds the message
// under its packet identifier until the PUBREL [MQTT-4.3.3], across
// reconnections of a persistent session. When the sender drops the entry
// before that PUBREL (the power went after the PUBLISH went out, and the
// entry expired by the next start), the receiver keeps the identifier
// forever. Mosquitto counts such messages against the client's inflight
// quota (max_inflight_messages, 20 by default): once a handful have piled
// up, it answers every further QoS 1 and 2 PUBLISH with "quota exceeded" —
// which MQTT 3.1.1 cannot carry, so the sender sees an ordinary PUBACK or
// PUBREC and the message is silently gone. The queue therefore remembers
// these entries (in the same transaction that drops them) until the sender
// has released their identifiers (PUBREL, answered by PUBCOMP) and calls
// ForgetOrphans.
//
// Which entries a reader may have sent: those Read returned in this process
// and every entry already queued when the queue was opened (a previous
// process may have sent any of them). Remembering a few that never went out
// costs a PUBREL each, answered by the receiver with a PUBCOMP.

// orphansBucket, in a queue bucket: seqKey → nothing.
var orphansBucket = []byte("o")

// maxOrphans bounds the orphans kept: the sender derives packet
// identifiers from sequence numbers modulo a space of this order (65,000
// in the bridge), so older ones share identifiers with newer ones.
const maxOrphans = 1 << 16

// countOrphans is the number of orphans in queue bucket bk.
func countOrphans(bk *bolt.Bucket) int64 {
	if ob := bk.Bucket(orphansBucket); ob != nil {
		return int64(ob.Stats().KeyN)
	}
	return 0
}

// noteRead records that entries up to seq were handed to a reader.
func (q *Queue) noteRead(seq uint64) {
	for {
		cur := q.readTo.Load()
		if seq <= cur || q.readTo.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// mayHaveSent reports whether the entry seq, stored as v, is a QoS 2
// entry a reader may have sent: one that becomes an orphan if it leaves
// the queue undelivered.
func (q *Queue) mayHaveSent(seq uint64, v []byte) bool {
	return len(v) > flagsOffset && (v[flagsOffset]&flagQoSMask)>>flagQoSShift == 2 && seq <= q.readTo.Load()
}

// noteOrphan remembers entry seq, which is leaving the queue undelivered,
// if a reader may have sent it at QoS 2. v is its stored record.
func (b *batch) noteOrphan(q *Queue, seq uint64, v []byte) error {
	if !q.mayHaveSent(seq, v) {
		return nil
	}
	bk := b.tx.Bucket(q.bucket)
	if bk == nil {
		return fmt.Errorf("offline: queue %q: bucket missing", q.name)
	}
	ob, err := bk.CreateBucketIfNotExists(orphansBucket)
	if err != nil {
		return fmt.Errorf("offline: queue %q: orphans: %w", q.name, err)
	}
	ob.FillPercent = appendFillPercent
	if err := ob.Put(seqKey(seq), nil); err != nil {
		return fmt.Errorf("offline: queue %q: orphan %d: %w", q.name, seq, err)
	}
	b.orphans[q]++
	b.orphaned[q] = true
	if q.orphans.Load()+b.orphans[q] > maxOrphans { // only after that many drops
		if k, _ := ob.Cursor().First(); k != nil {
			if err := ob.Delete(k); err != nil {
				return fmt.Errorf("offline: queue %q: orphans: %w", q.name, err)
			}
			b.orphans[q]--
		}
	}
	return nil
}

// Orphans returns, oldest first, the sequence numbers of QoS 2 entries that
// left the queue undelivered (overflow, expiry, quarantine) after a reader
// may have sent them: the receiver may still hold their packet identifiers
// (see the comment at the top of orphans.go). A sender that resumes a
// persistent session releases them (PUBREL) and then calls ForgetOrphans;
// one that starts a new session forgets them at once.
//
// gen grows with every commit that adds orphans. Passing the gen of the
// previous call as since returns no seqs when none were added since (a
// sender that asks after every read pays nothing then); 0 returns all.
func (q *Queue) Orphans(since uint64) (seqs []uint64, gen uint64, err error) {
	gen = q.orphanGen.Load() // before the view: a later addition raises it
	if gen == since || q.orphans.Load() <= 0 {
		return nil, gen, nil
	}
	err = q.d.view(func(tx *bolt.Tx) error {
		bk := tx.Bucket(q.bucket)
		if bk == nil {
			return nil
		}
		ob := bk.Bucket(orphansBucket)
		if ob == nil {
			return nil
		}
		return ob.ForEach(func(k, _ []byte) error {
			if seq, ok := keySeq(k); ok {
				seqs = append(seqs, seq)
			}
			return nil
		})
	})
	if err != nil {
		return nil, since, err
	}
	return seqs, gen, nil
}

// ForgetOrphansAsync removes seqs from the orphans, without waiting: done
// (which may be nil) is called when that is durable. Losing it to a crash
// costs only another PUBREL each.
func (q *Queue) ForgetOrphansAsync(seqs []uint64, done func(error)) {
	if done == nil {
		done = func(error) {}
	}
	seqs = slices.Clone(seqs)
	o := &op{
		apply: func(b *batch) error {
			bk := b.tx.Bucket(q.bucket)
			if bk == nil {
				return nil
			}
			ob := bk.Bucket(orphansBucket)
			if ob == nil {
				return nil
			}
			for _, seq := range seqs {
				k := seqKey(seq)
				if ob.Get(k) == nil {
					continue
				}
				if err := ob.Delete(k); err != nil {
					return fmt.Errorf("offline: queue %q: forget orphan %d: %w", q.name, seq, err)
				}
				b.orphans[q]--
			}
			return nil
		},
		lazy: true,
		done: done,
	}
	if err := q.d.submit(o); err != nil {
		done(err)
	}
}
