package offline

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// How often the writer checks that the store's file is still at its path:
// after a commit at most every pathCheckBusy (a stat, not one per commit on
// a busy store), and every pathCheckInterval when idle.
const (
	pathCheckBusy     = time.Second
	pathCheckInterval = 10 * time.Second
)

// checkPath notices that the store's file is gone from its path — the data
// directory deleted by a mistaken rm -rf, say. bbolt would go on writing to
// the unlinked file, and the next start would find nothing: so the
// directory is created again and the live data written there (a
// compaction: a fresh file, fsync'd, renamed into place, directory
// fsync'd), and the DB goes on on it. The event is logged and counted
// (DBStats.Relocations). Only the writer goroutine calls it.
func (d *DB) checkPath() {
	if d.bolt == nil || time.Since(d.pathChecked) < pathCheckBusy {
		return
	}
	d.pathChecked = time.Now()
	_, err := os.Stat(d.path)
	if !errors.Is(err, fs.ErrNotExist) {
		return
	}
	d.stats.relocations.Add(1)
	d.log.Error("offline: the store's file is gone from its path; writing the live data there again",
		"path", d.path, "err", err)
	if err := os.MkdirAll(filepath.Dir(d.path), 0o700); err != nil {
		d.log.Error("offline: cannot create the data directory again", "path", d.path, "err", err)
		return
	}
	if err := d.compact(); err != nil {
		d.log.Error("offline: cannot write the store again", "path", d.path, "err", err)
		return
	}
	d.log.Info("offline: store written again at its path", "path", d.path)
}
