package offline

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process before failing. Default 1 s (bbolt's zero would wait forever).
	Timeout time.Duration
	// Logger receives corruption, compaction and background errors.
	// Default slog.Default().
	Logger *slog.Logger
	// MaxBatch is the most write operations (appends, acks, KV puts, …)
	// committed in one transaction. Default 1024.
	MaxBatch int
	// CompactMinSize is the file size in bytes below which the file is never
	// compacted. Above it, Open and a queue draining empty compact the file
	// when at least half of it is free. Default 1 MiB; negative disables
	// automatic compaction.
	CompactMinSize int64
	// FullCheck makes Open read every page (bbolt Tx.Check) instead of the
	// cheap check. It costs time proportional to the file size. Open also
	// runs the full check, once, after a run in which bbolt reported damage.
	FullCheck bool
	// AckLinger is how long a small Ack (fewer than lingerMaxSeqs entries)
	// may wait to share the transaction of the next append, so that a
	// trickle of messages costs one commit and fsync per message instead of
	// two (flash wear). Acked entries deleted late are at worst sent again
	// after a crash, which the MQTT flows allow (QoS 1 duplicate; QoS 2
	// PUBREL, which the upstream answers with PUBCOMP). Default 1 s;
	// negative commits every Ack at once.
	AckLinger time.Duration
	// MaxDeferred and MaxDeferredBytes bound the messages (and their
	// topic+payload bytes) that AppendDeferred holds in memory waiting for
	// their commit: beyond either, everything waiting commits at once.
	// Defaults 4096 messages, 8 MiB.
	MaxDeferred      int
	MaxDeferredBytes int64
	// DeferredGroup is the number of deferred messages waiting that makes
	// them commit at once, without waiting out their delays: under load a
	// group fills while the previous commit's fsync runs, so deferring never
	// throttles ingest, while a trickle still shares one commit per delay.
	// Default 256.
	DeferredGroup int

	// clock replaces the real clocks in tests.
	clock clock
}

// Defaults of Options.
const (
	DefaultTimeout          = time.Second
	DefaultMaxBatch         = 1024
	DefaultCompactMinSize   = 1 << 20
	DefaultAckLinger        = time.Second
	DefaultMaxDeferred      = 4096
	DefaultMaxDeferredBytes = 8 << 20
	DefaultDeferredGroup    = 256
)

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.AckLinger == 0 {
		o.AckLinger = DefaultAckLinger
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.MaxDeferred <= 0 {
		o.MaxDeferred = DefaultMaxDeferred
	}
	if o.MaxDeferredBytes <= 0 {
		o.MaxDeferredBytes = DefaultMaxDeferredBytes
	}
	if o.DeferredGroup <= 0 {
		o.DeferredGroup = DefaultDeferredGroup
	}
	if o.CompactMinSize == 0 {
		o.CompactMinSize = DefaultCompactMinSize
	}
	o.clock = o.clock.withDefaults()
	return o
}

// DB is one bbolt file holding any number of queues and KV buckets. All
// writes go through one writer goroutine that commits them in groups (see
// the package doc). A DB is safe for concurrent use.
//
// Lock order: queueMu before handleMu before Queue.mu before mu (a Queue
// hands an append to the writer under its own lock, see Queue.enqueue); mu
// is a leaf.
type DB struct {
	path  string
	opts  Options
	log   *slog.Logger
	clock clock
	boot  bootRecord // set by Open, read-only afterwards

	// handleMu guards bolt against the swap done by compaction: readers
	// hold it shared for the length of a read transaction. The writer
	// goroutine is the only one that changes bolt, so it reads it freely.
	handleMu sync.RWMutex
	bolt     *bolt.DB

	pathChecked time.Time // the writer's last checkPath; writer goroutine only

	mu       sync.Mutex // guards pending, deferred, closed and the due times of deferred ops
	pending  []*op
	deferred []*op // AppendDeferred ops waiting for their due time (see take)
	closed   bool

	wake       chan struct{} // capacity 1: pending is not empty
	quit       chan struct{} // closed by Close
	writerDone chan struct{} // closed when the writer goroutine returns

	queueMu sync.Mutex // serializes Queue; guards queues
	queues  map[string]*Queue

	closeOnce sync.Once
	closeErr  error

	corrupt *corruptInfo // set by Open when it moved a corrupt file aside
	stats   dbCounters
}

// dbCounters are the DB's statistics since Open.
type dbCounters struct {
	commits, ops, commitErrors, fsyncs, bytesWritten atomic.Uint64
	lastError                                        atomic.Pointer[timedError]
	reopens                                          atomic.Uint64
	compactions, corruptErrors, relocations          atomic.Uint64
	lastPageAlloc                                    int64 // writer goroutine only
}

// Open opens (creating it if needed) the bbolt file at path and starts the
// DB's writer goroutine, which Close stops and waits for.
//
// A file that bbolt cannot open or that fails the cheap consistency check is
// renamed to "<path>.corrupt-<UTC stamp>" and replaced by an empty DB; this
// is logged at Error and reported in DBStats. When at least half of a file
// above Options.CompactMinSize is free, Open compacts it first (see the
// package doc). Open fails if another process holds the file for longer
// than Options.Timeout.
func Open(path string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	d := &DB{
		path:       path,
		opts:       opts,
		log:        opts.Logger,
		clock:      opts.clock,
		wake:       make(chan struct{}, 1),
		quit:       make(chan struct{}),
		writerDone: make(chan struct{}),
		queues:     make(map[string]*Queue),
	}
	b, corrupt, err := openStore(path, opts, d.log)
	if err != nil {
		return nil, err
	}
	d.bolt, d.corrupt = b, corrupt
	d.resetStatsBaseline()
	d.initBoot()
	d.maybeCompact()
	go d.run()
	return d, nil
}

// Close commits the operations already submitted, stops the writer
// goroutine, wakes blocked Reads (they return ErrClosed) and closes the
// file. It is safe to call more than once; later calls return the first
// result.
func (d *DB) Close() error {
	d.closeOnce.Do(func() {
		d.mu.Lock()
		d.closed = true
		d.mu.Unlock()
		close(d.quit)
		<-d.writerDone
		d.handleMu.Lock()
		defer d.handleMu.Unlock()
		if d.bolt != nil {
			if err := d.bolt.Close(); err != nil {
				d.closeErr = fmt.Errorf("offline: close %s: %w", d.path, err)
			}
			d.bolt = nil
		}
	})
	return d.closeErr
}

// DBStats describes a DB since Open.
type DBStats struct {
	// Path is the bbolt file.
	Path string
	// Commits counts write transactions committed (each is one group of
	// operations and one durable commit).
	Commits uint64
	// Ops counts the write operations in those commits; Ops/Commits is the
	// mean group size.
	Ops uint64
	// CommitErrors counts transactions that failed (e.g. disk full); their
	// operations failed and nothing of them was acknowledged.
	CommitErrors uint64
	// LastError is the last commit error's message ("" for none) and
	// LastErrorAt when it happened.
	LastError   string
	LastErrorAt time.Time
	// Reopens counts the times the file was opened again after a failed
	// commit (see DB.update).
	Reopens uint64
	// Fsyncs counts fdatasync calls: bbolt makes two per commit (data
	// pages, then the meta page).
	Fsyncs uint64
	// BytesWritten estimates the bytes written by commits: the pages bbolt
	// allocated (TxStats.PageAlloc) plus one meta page per commit, plus
	// the files written by compactions.
	BytesWritten uint64
	// FileSize is the current size of the file.
	FileSize int64
	// Compactions counts completed compactions.
	Compactions uint64
	// CorruptRecovered is true when Open found the file corrupt, moved it
	// to CorruptPath and started with an empty DB; CorruptReason says why.
	CorruptRecovered bool
	CorruptPath      string
	CorruptReason    string
	// CorruptErrors counts operations that failed because bbolt reported a
	// damaged page at run time (ErrCorrupt).
	CorruptErrors uint64
	// Relocations counts the times the file was found gone from its path
	// (its directory deleted) and written there again.
	Relocations uint64
}

// Stats returns the DB's statistics.
func (d *DB) Stats() DBStats {
	s := DBStats{
		Path:          d.path,
		Commits:       d.stats.commits.Load(),
		Ops:           d.stats.ops.Load(),
		CommitErrors:  d.stats.commitErrors.Load(),
		Fsyncs:        d.stats.fsyncs.Load(),
		BytesWritten:  d.stats.bytesWritten.Load(),
		Compactions:   d.stats.compactions.Load(),
		CorruptErrors: d.stats.corruptErrors.Load(),
		Relocations:   d.stats.relocations.Load(),
		Reopens:       d.stats.reopens.Load(),
	}
	if fi, err := os.Stat(d.path); err == nil {
		s.FileSize = fi.Size()
	}
	if d.corrupt != nil {
		s.CorruptRecovered, s.CorruptPath, s.CorruptReason = true, d.corrupt.movedTo, d.corrupt.reason
	}
	if e := d.stats.lastError.Load(); e != nil {
		s.LastError, s.LastErrorAt = e.msg, e.at
	}
	return s
}

// Bucket names. Queues and KV buckets have their own top-level bucket, so
// their names cannot collide.
const (
	queuePrefix = "q/"  // + queue name: entries, quarantine and queue meta
	kvPrefix    = "kv/" // + KV bucket name
)

var (
	metaBucket       = []byte("meta") // DB-level records
	bootKey          = []byte("boot") // bootRecord, in metaBucket
	entriesBucket    = []byte("e")    // in a queue bucket: seqKey → entry
	quarantineBucket = []byte("x")    // in a queue bucket: seqKey → quarantineRecord
	queueMetaKey     = []byte("m")    // in a queue bucket: queueMeta
)

// initBoot reads the boot record and, when this is a new boot (or the first
// Open), writes a new one.
func (d *DB) initBoot() {
	id, err := d.clock.bootID()
	if err != nil {
		d.log.Warn("offline: no boot id; message ages restart at each process start", "err", err)
		id = processBootID
	}
	rec := d.readBootRecord()
	if rec.id == id {
		d.boot = rec
		return
	}
	d.boot = bootRecord{seq: rec.seq + 1, id: id, firstSeen: d.clock.boottime()}
	err = d.bolt.Update(func(tx *bolt.Tx) error {
		mb, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		return mb.Put(bootKey, d.boot.encode())
	})
	if err != nil {
		// Keep going (e.g. on a full disk): this process still tells the
		// boots apart; a later process in this boot restarts the ages of
		// entries from earlier boots once more.
		d.log.Error("offline: cannot store the boot record", "path", d.path, "err", err)
		return
	}
	d.countCommit(1)
}

// readBootRecord returns the stored boot record; the zero record when there
// is none or it does not decode (all entries then count as from another boot).
func (d *DB) readBootRecord() bootRecord {
	var rec bootRecord
	_ = d.bolt.View(func(tx *bolt.Tx) error {
		if mb := tx.Bucket(metaBucket); mb != nil {
			if v := mb.Get(bootKey); v != nil {
				var err error
				if rec, err = decodeBootRecord(v); err != nil {
					d.log.Warn("offline: unreadable boot record; ages restart now", "path", d.path, "err", err)
					rec = bootRecord{}
				}
			}
		}
		return nil
	})
	return rec
}

// view runs fn in a read transaction on the current file. A bbolt panic
// (a damaged page) is returned as ErrCorrupt.
func (d *DB) view(fn func(*bolt.Tx) error) (err error) {
	d.handleMu.RLock()
	defer d.handleMu.RUnlock()
	if d.bolt == nil {
		if d.isClosed() {
			return ErrClosed
		}
		return errNotReopened // transient: the next write tries again
	}
	defer func() {
		if r := recover(); r != nil {
			err = d.corruption("read", r)
		}
	}()
	return d.bolt.View(fn)
}

// corruption records a bbolt panic: it is logged, counted, and a marker
// makes the next Open run the full check.
func (d *DB) corruption(where string, r any) error {
	err := fmt.Errorf("%w: %s %s: %v", ErrCorrupt, where, d.path, r)
	d.stats.corruptErrors.Add(1)
	if mErr := writeCheckMarker(d.path); mErr != nil {
		d.log.Error("offline: cannot write check marker", "path", d.path, "err", mErr)
	}
	d.log.Error("offline: bbolt reported a damaged page", "path", d.path, "err", err)
	return err
}

// isClosed reports whether Close was called.
func (d *DB) isClosed() bool {
	select {
	case <-d.quit:
		return true
	default:
		return false
	}
}

// do submits a write operation and waits for its result. When ctx ends
// before the writer took the operation, it is withdrawn and ctx's error is
// returned; once taken, do waits for the commit, so an error from do always
// means the operation did not happen.
func (d *DB) do(ctx context.Context, apply func(*batch) error) error {
	return d.doOp(ctx, &op{apply: apply})
}

// doOp is do for a prepared op (a lazy one, say).
func (d *DB) doOp(ctx context.Context, o *op) error {
	res := make(chan error, 1)
	o.done = func(err error) { res <- err }
	if err := d.submit(o); err != nil {
		return err
	}
	return awaitOp(ctx, o, res)
}

// awaitOp waits for the result of o on res (see do).
func awaitOp[T any](ctx context.Context, o *op, res <-chan T) T {
	select {
	case r := <-res:
		return r
	case <-ctx.Done():
		if o.cancel() {
			o.done(fmt.Errorf("offline: %w", ctx.Err()))
		}
		return <-res
	}
}
