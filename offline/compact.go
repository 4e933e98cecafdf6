package offline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// compactTxBytes bounds the memory of a compaction: bbolt.Compact commits
// the new file every this many bytes of keys and values.
const compactTxBytes = 8 << 20

// maybeCompact compacts the file when it is above Options.CompactMinSize and
// at least half of it is reclaimable. Called by Open and, on the writer
// goroutine, after a commit that emptied a queue. Failures are logged: the
// DB keeps working on the uncompacted file.
func (d *DB) maybeCompact() {
	if d.opts.CompactMinSize < 0 || d.bolt == nil {
		return
	}
	size, reclaim, err := d.reclaimable()
	if err != nil || size < d.opts.CompactMinSize || reclaim*2 < size {
		return
	}
	start := time.Now()
	if err := d.compact(); err != nil {
		d.log.Warn("offline: compaction failed; continuing with the uncompacted file", "path", d.path, "err", err)
		return
	}
	after := d.Stats().FileSize
	d.log.Info("offline: compacted", "path", d.path, "bytes_before", size, "bytes_after", after,
		"duration", time.Since(start))
}

// reclaimable returns the file size and how much of it holds no live data:
// free and pending pages plus the preallocated tail beyond the last page.
func (d *DB) reclaimable() (size, reclaim int64, err error) {
	fi, err := os.Stat(d.path)
	if err != nil {
		return 0, 0, err
	}
	var used int64
	if err := d.bolt.View(func(tx *bolt.Tx) error {
		used = tx.Size()
		return nil
	}); err != nil {
		return 0, 0, err
	}
	st := d.bolt.Stats()
	used -= int64(st.FreePageN+st.PendingPageN) * int64(d.bolt.Info().PageSize)
	return fi.Size(), fi.Size() - used, nil
}

// compact copies the live data into "<path>.tmp" (bbolt.Compact), fsyncs
// it, renames it over path, fsyncs the directory (and its ancestors) and
// goes on with the new file. The handle that wrote the copy stays open
// across the rename and becomes the DB's handle, so the file at path is
// never without bbolt's lock: another process (`gateway queue stats`)
// cannot open it in between. A power cut at any point leaves either the old
// or the new complete file at path (the rename is the only change to the
// directory; nothing is written to either file meanwhile); a leftover .tmp
// is removed by the next compaction. Only the writer goroutine (or Open
// before starting it) calls compact, so no write runs meanwhile; reads go
// on on the old file until the swap.
func (d *DB) compact() error {
	tmp := d.path + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("offline: compact: %w", err)
	}
	dst, err := writeCompacted(tmp, d.bolt, d.opts.Timeout)
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	fi, err := os.Stat(tmp)
	if err == nil {
		err = os.Rename(tmp, d.path)
	}
	if err != nil {
		closeQuietly(dst)
		_ = os.Remove(tmp)
		return fmt.Errorf("offline: compact: %w", err)
	}
	compactRenamed(d.path)
	syncErr := syncParents(d.path)
	d.swap(dst)
	d.stats.compactions.Add(1)
	d.stats.bytesWritten.Add(uint64(fi.Size()))
	if syncErr != nil {
		// The rename may not survive a power cut; the new file is the
		// only one written from now on, so retry at once.
		d.log.Error("offline: fsync directory after compaction", "path", d.path, "err", syncErr)
		if err := syncParents(d.path); err != nil {
			return fmt.Errorf("offline: compact: %w", err)
		}
	}
	return nil
}

// compactRenamed is called by compact right after the rename, while the
// old handle is still open: a test hook.
var compactRenamed = func(path string) {}

// writeCompacted writes the compacted copy of src to path and returns it
// still open (and so locked). It is durable on return: bbolt.Compact
// commits on dst, and each commit fsyncs.
func writeCompacted(path string, src *bolt.DB, timeout time.Duration) (*bolt.DB, error) {
	dst, err := bolt.Open(path, 0o600, boltOptions(timeout))
	if err != nil {
		return nil, fmt.Errorf("offline: compact: open %s: %w", path, err)
	}
	if err := bolt.Compact(dst, src, compactTxBytes); err != nil {
		closeQuietly(dst)
		return nil, fmt.Errorf("offline: compact: %w", err)
	}
	return dst, nil
}

// swap makes b, the compacted file now at path, the DB's handle, waiting
// for running reads, and closes the replaced one.
func (d *DB) swap(b *bolt.DB) {
	d.handleMu.Lock()
	old := d.bolt
	d.bolt = b
	d.resetStatsBaseline()
	d.handleMu.Unlock()
	if err := old.Close(); err != nil {
		d.log.Warn("offline: close the file replaced by compaction", "path", d.path, "err", err)
	}
}
