package offline

import (
	"context"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

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
		// Pending entries first: one whose commit completes meanwhile
		// leaves them only after it is on disk, where the scan finds it.
		pend, hold, last := q.pendingAfter(after, max)
		if testHookPending != nil {
			testHookPending()
		}
		res, err := q.scan(after, max)
		if err != nil {
			return nil, err
		}
		q.dropDead(res)
		limit := hold
		if limit == 0 {
			limit = last + 1
		}
		if live := before(mergeEntries(res, pend, max), limit); len(live) > 0 {
			q.noteRead(live[len(live)-1].Seq)
			return live, nil
		}
		// Only dead entries so far, or entries appended after the pending
		// snapshot: look further — unless an entry written ahead and not
		// committed yet holds the reader back (hold).
		if hold == 0 && res.last > after {
			if next := min(res.last, last); next > after {
				after = next
			}
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

// testHookPending, when set by a test, runs in Read between taking the
// pending entries and scanning the disk.
var testHookPending func()

// maxDeadPerScan bounds the expired or undecodable entries one read
// transaction skips, so that a long run of them cannot make a Read hold its
// transaction (and memory for their sequence numbers) for long.
const maxDeadPerScan = 4096

// scanResult is what one read transaction found after a sequence number.
type scanResult struct {
	live    []Entry
	expired []uint64
	bad     map[uint64]string // undecodable entries and why
	orphans bool              // some of expired are QoS 2 entries a reader may have sent
	last    uint64            // highest seq looked at
	cut     bool              // the scan stopped at maxDeadPerScan
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
				res.orphans = res.orphans || q.mayHaveSent(seq, v)
				dead++
			default:
				e := r.entry(seq)
				e.Age = q.d.age(&r, now)
				res.live = append(res.live, e)
			}
		}
		res.cut = dead >= maxDeadPerScan
		return nil
	})
	return res, err
}

// before returns the entries of es (sorted) with Seq < limit; all of them
// when limit is 0.
func before(es []Entry, limit uint64) []Entry {
	if limit == 0 {
		return es
	}
	n := 0
	for n < len(es) && es[n].Seq < limit {
		n++
	}
	return es[:n]
}

// mergeEntries merges the live entries of a scan and the pending entries
// (both sorted, possibly overlapping while a commit completes) into the
// first max by sequence number. When the scan stopped early at dead
// entries, pending entries beyond them wait for the next scan: live entries
// on disk may lie between.
func mergeEntries(res scanResult, pend []Entry, max int) []Entry {
	if len(pend) == 0 {
		return res.live
	}
	if res.cut {
		i := 0
		for i < len(pend) && pend[i].Seq <= res.last {
			i++
		}
		pend = pend[:i]
	}
	disk := res.live
	out := make([]Entry, 0, min(max, len(disk)+len(pend)))
	for len(out) < max && (len(disk) > 0 || len(pend) > 0) {
		switch {
		case len(pend) == 0 || len(disk) > 0 && disk[0].Seq < pend[0].Seq:
			out, disk = append(out, disk[0]), disk[1:]
		case len(disk) > 0 && disk[0].Seq == pend[0].Seq: // committed meanwhile
			out, disk, pend = append(out, disk[0]), disk[1:], pend[1:]
		default:
			out, pend = append(out, pend[0]), pend[1:]
		}
	}
	return out
}

// dropDead deletes expired entries and quarantines undecodable ones, without
// waiting — Read has already skipped them — unless some of them become
// orphans: then it waits for the commit, so that the reader finds them in
// Orphans before it sends anything queued after them (see orphans.go).
func (q *Queue) dropDead(res scanResult) {
	if len(res.expired) == 0 && len(res.bad) == 0 {
		return
	}
	var committed chan struct{}
	if res.orphans {
		committed = make(chan struct{})
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
			if committed != nil {
				close(committed)
			}
		},
	}
	if q.d.submit(o) != nil { // closed: the next Open's reads retry
		return
	}
	if committed != nil {
		select {
		case <-committed:
		case <-q.d.quit:
		}
	}
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
func (d *DB) age(r *record, now time.Duration) time.Duration { return d.boot.age(r, now) }

// LastSeq returns the sequence number of the newest entry ever appended to
// q (0 for none yet), whether or not it is still queued. A sender takes it
// as the boundary between a backlog and what arrives while it drains.
func (q *Queue) LastSeq() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.lastSeq
}
