package offline

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// op is one write operation for the writer goroutine: apply changes the
// transaction of the batch it is part of, done receives the outcome after
// the commit (or the failure).
type op struct {
	apply func(b *batch) error
	done  func(err error)
	state atomic.Int32 // opPending → opTaken by the writer, or → opCancelled by the waiter
	// lazy ops (small acks) may wait up to Options.AckLinger for another
	// op to share their transaction; since is when the op was submitted.
	lazy   bool
	since  time.Time
	weight int // entries a lazy ack removes: lazy ops stop waiting once they add up to lingerMaxSeqs
	// deferred appends (AppendDeferred) wait in DB.deferred until due, or
	// join another commit from early on; size is their topic+payload bytes.
	due, early time.Time
	size       int
}

const (
	opPending int32 = iota
	opTaken
	opCancelled
)

// cancel withdraws a pending op; it reports false when the writer took it.
func (o *op) cancel() bool { return o.state.CompareAndSwap(opPending, opCancelled) }

// rejected wraps an error for which apply changed nothing: only that op
// fails, the rest of its batch commits.
type rejected struct{ err error }

func (r rejected) Error() string { return r.err.Error() }
func (r rejected) Unwrap() error { return r.err }

func reject(err error) error { return rejected{err} }

// submit queues o for the writer. It never blocks: callers bound what they
// submit (a synchronous caller has one op pending; asynchronous appends are
// bounded by the MQTT flow control of whoever calls AppendAsync).
func (d *DB) submit(o *op) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	if o.lazy {
		o.since = time.Now()
	}
	if o.due.IsZero() {
		d.pending = append(d.pending, o)
	} else {
		d.deferred = append(d.deferred, o)
	}
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return nil
}

// take removes up to MaxBatch pending ops, skipping cancelled ones, plus the
// deferred appends that are due (see takeDeferredLocked), and reports
// whether Close was called. While every pending op is lazy and the oldest
// has waited less than AckLinger, and no deferred append is due, it takes
// nothing and returns how long the writer may sleep.
func (d *DB) take() (ops []*op, closed bool, wait time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	linger := d.lingerLocked()
	commitAnyway := len(d.pending) > 0 && linger <= 0
	deferred, next := d.takeDeferredLocked(time.Now(), commitAnyway)
	if !commitAnyway && len(deferred) == 0 {
		switch {
		case linger > 0 && next > 0:
			wait = min(linger, next)
		case linger > 0:
			wait = linger
		default:
			wait = next
		}
		return nil, d.closed, wait
	}
	ops = deferred
	n := min(len(d.pending), d.opts.MaxBatch)
	for _, o := range d.pending[:n] {
		if o.state.CompareAndSwap(opPending, opTaken) {
			ops = append(ops, o)
		}
	}
	rest := copy(d.pending, d.pending[n:])
	clear(d.pending[rest:])
	d.pending = d.pending[:rest]
	return ops, d.closed, 0
}

// lingerLocked returns how long the pending ops may still wait: > 0 only
// when all are lazy, none waited AckLinger yet, and Close was not called.
func (d *DB) lingerLocked() time.Duration {
	if d.closed || d.opts.AckLinger < 0 || len(d.pending) == 0 {
		return 0
	}
	weight := 0
	for _, o := range d.pending {
		if !o.lazy {
			return 0
		}
		weight += o.weight
	}
	if weight >= lingerMaxSeqs {
		return 0
	}
	return d.opts.AckLinger - time.Since(d.pending[0].since)
}

// run is the writer goroutine, started by Open and stopped by Close. It
// commits whatever is pending as one transaction, so batches form by
// themselves while the previous commit's fsync runs: no batching timer, and
// an idle DB commits a lone operation at once — except a small Ack, which
// may linger (Options.AckLinger) to share the next append's commit. After
// Close it commits what is still pending, then returns.
func (d *DB) run() {
	defer close(d.writerDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		ops, closed, wait := d.take()
		if len(ops) > 0 {
			d.commit(ops)
			continue
		}
		if closed && wait <= 0 {
			return
		}
		if wait <= 0 || wait > pathCheckInterval {
			wait = pathCheckInterval // an idle writer still notices a vanished file
		}
		timer.Reset(wait)
		select {
		case <-d.wake:
		case <-d.quit:
		case <-timer.C:
			d.checkPath()
		}
		timer.Stop()
	}
}

// commit applies ops in one transaction and completes them in order. If an
// op fails in a way that may have changed the transaction, the batch is
// rolled back and each op is retried in a transaction of its own, so that
// one bad op cannot fail the others.
func (d *DB) commit(ops []*op) {
	errs, drained, ok := d.commitBatch(ops)
	if !ok {
		for _, o := range ops {
			e, dr, _ := d.commitBatch([]*op{o})
			o.done(e[0])
			drained = drained || dr
		}
	} else {
		for i, o := range ops {
			o.done(errs[i])
		}
	}
	if drained {
		d.maybeCompact()
	}
	d.checkPath()
}

// commitBatch runs one transaction for ops and returns each op's error and
// whether a queue became empty. ok is false when an op failed with a
// non-rejection error in a batch of several (the caller retries them one by
// one).
func (d *DB) commitBatch(ops []*op) (errs []error, drained, ok bool) {
	b := newBatch(d)
	errs = make([]error, len(ops))
	aborted := false
	err := d.update(func(tx *bolt.Tx) error {
		b.tx = tx
		for i, o := range ops {
			err := o.apply(b)
			var rj rejected
			switch {
			case errors.As(err, &rj):
				errs[i] = rj.err
			case err != nil:
				aborted = true
				errs[i] = err
				return err
			}
		}
		return b.flush()
	}, len(ops))
	switch {
	case err == nil:
		b.publish()
		return errs, b.drained, true
	case aborted && len(ops) > 1:
		return nil, false, false
	case aborted:
		return errs, false, true
	}
	for i := range errs {
		errs[i] = err
	}
	return errs, false, true
}

// update runs fn in a write transaction and commits it (two fdatasyncs).
// A bbolt panic is returned as ErrCorrupt.
func (d *DB) update(fn func(*bolt.Tx) error, nops int) (err error) {
	if d.bolt == nil {
		if d.isClosed() {
			return ErrClosed
		}
		if err := d.reopen(); err != nil { // a reopen after a failure failed
			return err
		}
	}
	defer func() {
		if r := recover(); r != nil {
			d.stats.commitErrors.Add(1)
			err = d.corruption("write", r)
			_ = d.reopen()
		}
	}()
	fnFailed := false
	err = d.bolt.Update(func(tx *bolt.Tx) error {
		if err := fn(tx); err != nil {
			fnFailed = true
			return err
		}
		return nil
	})
	switch {
	case err == nil:
		d.countCommit(nops)
		return nil
	case fnFailed:
		return err
	}
	err = fmt.Errorf("offline: commit %s: %w", d.path, err)
	d.stats.commitErrors.Add(1)
	d.stats.lastError.Store(&timedError{err.Error(), time.Now()})
	_ = d.reopen()
	return err
}

// errNotReopened is what reads get while a reopen has failed.
var errNotReopened = errors.New("offline: the store could not be reopened after a failed commit")

// reopen replaces the bbolt handle with a fresh one on the same file. After
// a commit failed (a full disk, a read-only remount, EIO), bbolt's memory
// can no longer be trusted: its freelist may keep the pages the failed
// transaction freed, and the next commit panics ("page already freed": the
// store then refused every write until the gateway restarted). The file
// itself holds the last commit, intact; a fresh handle reads its state
// from there. If the file cannot be opened (the fault persists), the
// handle stays closed and the next write tries again. Only the writer
// goroutine calls reopen.
func (d *DB) reopen() error {
	d.handleMu.Lock()
	defer d.handleMu.Unlock()
	if d.bolt != nil {
		if err := d.bolt.Close(); err != nil {
			d.log.Warn("offline: close the store after a failed commit", "path", d.path, "err", err)
		}
		d.bolt = nil
	}
	b, err := bolt.Open(d.path, 0o600, boltOptions(d.opts.Timeout))
	if err != nil {
		err = fmt.Errorf("offline: reopen %s: %w", d.path, err)
		d.log.Error("offline: cannot reopen the store after a failed commit; retrying with the next write", "err", err)
		return err
	}
	d.bolt = b
	d.resetStatsBaseline()
	d.stats.reopens.Add(1)
	return nil
}

// timedError is the last commit error and when it happened.
type timedError struct {
	msg string
	at  time.Time
}

// countCommit updates the statistics after a successful commit.
func (d *DB) countCommit(nops int) {
	d.stats.commits.Add(1)
	d.stats.ops.Add(uint64(nops))
	d.stats.fsyncs.Add(2)
	st := d.bolt.Stats()
	alloc := st.TxStats.GetPageAlloc()
	written := alloc - d.stats.lastPageAlloc + int64(d.bolt.Info().PageSize)
	d.stats.lastPageAlloc = alloc
	d.stats.bytesWritten.Add(uint64(max(written, 0)))
}

// resetStatsBaseline starts counting page allocations of a newly opened
// bbolt handle.
func (d *DB) resetStatsBaseline() {
	st := d.bolt.Stats()
	d.stats.lastPageAlloc = st.TxStats.GetPageAlloc()
}

// batch is the state of one write transaction: the queues' depth as it will
// be once the transaction commits.
type batch struct {
	d        *DB
	tx       *bolt.Tx
	queues   map[*Queue]*queueState // working copies, published on commit
	orig     map[*Queue]queueMeta   // persisted part at the start, to skip unchanged metas
	appended map[*Queue]bool        // queues whose readers to wake
	drained  bool                   // a queue became empty
	orphans  map[*Queue]int64       // orphans added minus forgotten (see orphans.go)
	orphaned map[*Queue]bool        // queues that gained orphans
}

func newBatch(d *DB) *batch {
	return &batch{
		d:        d,
		queues:   make(map[*Queue]*queueState),
		orig:     make(map[*Queue]queueMeta),
		appended: make(map[*Queue]bool),
		orphans:  make(map[*Queue]int64),
		orphaned: make(map[*Queue]bool),
	}
}

// state returns the working copy of q's state in this batch.
func (b *batch) state(q *Queue) *queueState {
	if st, ok := b.queues[q]; ok {
		return st
	}
	st := q.snapshot()
	b.queues[q], b.orig[q] = &st, st.queueMeta
	return &st
}

// flush writes the changed queue metas into the transaction.
func (b *batch) flush() error {
	for q, st := range b.queues {
		if st.queueMeta == b.orig[q] {
			continue
		}
		bk := b.tx.Bucket(q.bucket)
		if bk == nil {
			return fmt.Errorf("offline: queue %q: bucket missing", q.name)
		}
		if err := bk.Put(queueMetaKey, st.queueMeta.encode()); err != nil {
			return fmt.Errorf("offline: queue %q: write meta: %w", q.name, err)
		}
	}
	return nil
}

// publish makes the batch's queue states current and wakes the readers of
// queues that received entries. Called after the commit succeeded.
func (b *batch) publish() {
	for q, st := range b.queues {
		q.setState(*st)
	}
	for q := range b.appended {
		q.notify()
	}
	for q, n := range b.orphans {
		q.orphans.Add(n)
	}
	for q := range b.orphaned {
		q.orphanGen.Add(1)
	}
}
