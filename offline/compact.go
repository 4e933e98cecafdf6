package offline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
// it, renames it over path, fsyncs the directory and reopens. A crash at any
// point leaves either the old or the new complete file at path; a leftover
// .tmp is removed by the next compaction. Only the writer goroutine (or Open
// before starting it) calls compact, so no write runs meanwhile; reads go on
// on the old file until the swap.
func (d *DB) compact() error {
	tmp := d.path + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := writeCompacted(tmp, d.bolt, d.opts.Timeout); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	fi, err := os.Stat(tmp)
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, d.path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := syncDir(filepath.Dir(d.path)); err != nil {
		d.log.Warn("offline: fsync directory after compaction", "path", d.path, "err", err)
	}
	d.stats.compactions.Add(1)
	d.stats.bytesWritten.Add(uint64(fi.Size()))
	return d.reopen()
}

// writeCompacted writes the compacted copy of src to path and fsyncs it.
func writeCompacted(path string, src *bolt.DB, timeout time.Duration) error {
	dst, err := bolt.Open(path, 0o600, boltOptions(timeout))
	if err != nil {
		return fmt.Errorf("offline: compact: open %s: %w", path, err)
	}
	if err := bolt.Compact(dst, src, compactTxBytes); err != nil {
		_ = dst.Close()
		return fmt.Errorf("offline: compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("offline: compact: close %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// reopen swaps the bbolt handle for one on the (renamed) file at path,
// waiting for running reads. If the new file cannot be opened the DB is
// broken: every operation fails with that error until Close.
func (d *DB) reopen() error {
	d.handleMu.Lock()
	defer d.handleMu.Unlock()
	if err := d.bolt.Close(); err != nil {
		d.log.Warn("offline: close the file replaced by compaction", "path", d.path, "err", err)
	}
	b, err := bolt.Open(d.path, 0o600, boltOptions(d.opts.Timeout))
	if err != nil {
		d.bolt = nil
		d.broken = fmt.Errorf("offline: reopen %s after compaction: %w", d.path, err)
		d.log.Error("offline: cannot reopen after compaction", "path", d.path, "err", err)
		return d.broken
	}
	d.bolt = b
	d.resetStatsBaseline()
	return nil
}
