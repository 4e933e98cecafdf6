// Package offline is the gateway's durable store: FIFO queues of MQTT
// messages bound for the upstream broker, and key/value buckets (retained
// messages, persistent sessions), all in one bbolt file per DB.
//
// # Durability
//
// A write returns only when it is on disk: Append, Ack, MarkReceived,
// Quarantine, KV.Put and KV.Delete return (and AppendAsync, KV.PutAsync and
// KV.DeleteAsync call done) after the bbolt transaction holding them
// committed, which fsyncs the file (bbolt's NoSync is never set). The one
// exception is the deliberate one below: AppendDeferred. When a commit fails, for example because the
// disk is full (the error wraps syscall.ENOSPC), every operation of that
// commit fails and none is acknowledged; the DB keeps working once space
// returns.
//
// # Deferred commits: sparing the flash
//
// AppendDeferred lets an append's commit wait up to a delay: the entry is
// visible to readers at once, and if it is acknowledged (Ack, AckAsync)
// before the delay runs out, its commit is cancelled and it never touches
// the disk (counted in QueueStats.Unwritten). Otherwise it is committed
// when due, together with every other deferred append that has waited at
// least half its delay, and with whatever else the writer commits. Its done
// is called once: when it is durable or when it was acknowledged, whichever
// comes first. A crash loses only deferred entries that were neither; the
// caller decides what that may cover (the bridge defers messages for tens
// of milliseconds while their publisher waits, sensor readings for
// seconds). Deferred entries live in memory, bounded by
// Options.MaxDeferred and MaxDeferredBytes, beyond which they commit at
// once; Close commits them.
//
// Sequence numbers are assigned at append time, in call order, so readers
// see entries in that order whether or not they are committed yet; an
// entry acknowledged before its commit leaves a gap in the numbers on disk.
//
// # Group commit
//
// Open starts one writer goroutine per DB; Close stops it and waits for it.
// Every write operation goes to that goroutine, which takes all operations
// pending (up to Options.MaxBatch) and commits them in one transaction, one
// fsync, then completes their callers in submission order. There is no timer
// (unlike bbolt's DB.Batch, which waits 10 ms): an idle DB commits a lone
// message at once, and under load the next group gathers while the previous
// fsync runs, so the cost of durability per message falls as load rises.
//
// # Layout
//
// Each queue has a top-level bucket "q/<name>" holding the entries bucket
// (key: the sequence number from the bucket's NextSequence as 8 bytes
// big-endian, so the cursor's First is the oldest), a quarantine bucket and
// a record of the queue's depth (messages and bytes), updated in the same
// transaction as the entries: Open reads the depth instead of counting. KV
// buckets are "kv/<name>". Entries use a compact binary encoding that starts
// with a version byte (entry.go). Nothing is indexed in memory: Read seeks a
// cursor to its "after" argument, so memory does not grow with the depth.
//
// # Time and TTL
//
// An entry stores the wall-clock time of its append (Entry.Enqueued, for
// display) and a CLOCK_BOOTTIME stamp, which counts suspend and is never
// stepped. The DB stores the kernel's boot id: a stamp is comparable with the
// clock only within the boot that wrote it. A message's age is the
// boot-relative time since its append; for a message from an earlier boot,
// it is the time since this boot first opened the DB. So a board without an
// RTC that boots in 1970 and is then stepped by NTP neither expires its
// whole queue at once nor keeps it forever. Expired entries are deleted when
// Read meets them and counted as "expired"; entries marked received (QoS 2)
// never expire.
//
// # Bounds and space
//
// QueueOptions bound a queue by messages and by topic+payload bytes; at the
// bound, DropOldest deletes the oldest entries and DropNew refuses the new
// one with ErrFull, each counted in QueueStats.Dropped. bbolt files never
// shrink by themselves: when a file above Options.CompactMinSize is at least
// half free, Open, and the writer after a commit that empties a queue, copy
// the live data into "<path>.tmp" (bbolt.Compact), fsync it, rename it over
// the file and fsync the directory. A crash at any point leaves a complete
// file, old or new.
//
// # Corruption
//
// Open checks the file cheaply: the meta pages against the file size before
// bbolt maps it, then the buckets and the first and last entry of each
// queue. A file that fails is renamed to "<path>.corrupt-<UTC stamp>", an
// empty DB is created in its place, the event is logged at Error and
// reported in DBStats. If bbolt reports a damaged page later (it panics), the
// operation fails with ErrCorrupt and the next Open runs a full check.
package offline
