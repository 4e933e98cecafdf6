package offline

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/edgegw/edgegw/internal/atomicfile"
)

// corruptInfo records that Open found a corrupt file and moved it aside.
type corruptInfo struct {
	movedTo string // "<path>.corrupt-<UTC stamp>"
	reason  string
}

// openStore opens the bbolt file at path. A file that fails the checks of
// openChecked is renamed to "<path>.corrupt-<UTC stamp>" and a fresh file is
// created in its place: the gateway starts empty instead of crash-looping,
// and the old file stays for forensics. Other errors (the lock held by
// another process, permissions, I/O) are returned unchanged.
func openStore(path string, opts Options, log *slog.Logger) (*bolt.DB, *corruptInfo, error) {
	b, err := openChecked(path, opts)
	if err == nil || !errors.Is(err, ErrCorrupt) {
		return b, nil, err
	}
	movedTo, mvErr := moveAside(path, opts.clock.now())
	if mvErr != nil {
		return nil, nil, fmt.Errorf("%w (and it cannot be moved aside: %w)", err, mvErr)
	}
	log.Error("offline: corrupt database moved aside, starting with an empty one",
		"path", path, "moved_to", movedTo, "err", err)
	b, err2 := openChecked(path, opts)
	if err2 != nil {
		return nil, nil, fmt.Errorf("offline: open fresh %s after moving the corrupt one aside: %w", path, err2)
	}
	return b, &corruptInfo{movedTo: movedTo, reason: err.Error()}, nil
}

// openChecked opens path with bbolt and checks it cheaply: the meta pages
// against the file size before mapping (precheckFile), then, after opening,
// the root bucket and the first and last entry of every queue (checkStore).
// bbolt reports some damage by panicking or by faulting on the memory map;
// both are recovered here (debug.SetPanicOnFault) and reported as ErrCorrupt.
// A full check (bbolt's Tx.Check, which reads every page) runs when
// Options.FullCheck is set or an earlier run left a check marker.
func openChecked(path string, opts Options) (b *bolt.DB, err error) {
	if err := precheckFile(path); err != nil {
		return nil, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if b != nil {
				closeQuietly(b)
			}
			b, err = nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, r)
		}
	}()
	b, err = bolt.Open(path, 0o600, boltOptions(opts.Timeout))
	if err != nil {
		if isBoltCorruption(err) {
			return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
		}
		return nil, fmt.Errorf("offline: open %s: %w", path, err)
	}
	marker := fileExists(checkMarker(path))
	if err := checkStore(b, opts.FullCheck || marker); err != nil {
		closeQuietly(b)
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	if marker {
		_ = os.Remove(checkMarker(path))
	}
	if err := syncParents(path); err != nil {
		closeQuietly(b)
		return nil, fmt.Errorf("offline: open %s: %w", path, err)
	}
	return b, nil
}

// syncParents makes the file at path reachable after a power cut: bbolt
// syncs the data of a file it creates but not the directory entry, and the
// caller may have just created the directory too (os.MkdirAll syncs
// nothing). It fsyncs the file's directory, then each ancestor up to the
// root; the ancestors' errors are ignored (a read-only or foreign parent
// file system; their entries are usually old and durable anyway). A
// removed check marker is made durable by the same fsync.
func syncParents(path string) error {
	dir := filepath.Dir(path)
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("fsync directory: %w", err)
	}
	for {
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		_ = syncDir(parent)
		dir = parent
	}
}

// isBoltCorruption reports whether a bbolt.Open error is about the content of
// the file (rather than the lock, permissions or I/O).
func isBoltCorruption(err error) bool {
	return errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrChecksum) ||
		errors.Is(err, bolterrors.ErrVersionMismatch)
}

// checkStore walks what Open needs: every top-level bucket, and for queue
// buckets the metadata and the first and last entries (which reads the
// B+tree's left and right spines, not every page). full adds bbolt's
// Tx.Check over every page.
func checkStore(b *bolt.DB, full bool) error {
	return b.View(func(tx *bolt.Tx) error {
		if err := tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			return checkBucket(name, bk)
		}); err != nil {
			return err
		}
		if !full {
			return nil
		}
		var errs []error
		for e := range tx.Check() {
			errs = append(errs, e)
		}
		return errors.Join(errs...)
	})
}

// checkBucket checks one top-level bucket.
func checkBucket(name []byte, bk *bolt.Bucket) error {
	if !strings.HasPrefix(string(name), queuePrefix) {
		bk.Cursor().First()
		return nil
	}
	if _, err := loadQueueMeta(bk); err != nil {
		return fmt.Errorf("queue %q: %w", name[len(queuePrefix):], err)
	}
	for _, sub := range [][]byte{entriesBucket, quarantineBucket} {
		sb := bk.Bucket(sub)
		if sb == nil {
			return fmt.Errorf("queue %q: bucket %q missing", name[len(queuePrefix):], sub)
		}
		c := sb.Cursor()
		for _, k := range [][]byte{firstKey(c), lastKey(c)} {
			if k != nil && len(k) != 8 {
				return fmt.Errorf("queue %q: key of %d bytes", name[len(queuePrefix):], len(k))
			}
		}
	}
	return nil
}

func firstKey(c *bolt.Cursor) []byte { k, _ := c.First(); return k }
func lastKey(c *bolt.Cursor) []byte  { k, _ := c.Last(); return k }

// moveAside renames path to "<path>.corrupt-<UTC stamp>" (adding a counter if
// that exists) and syncs the directory.
func moveAside(path string, now time.Time) (string, error) {
	base := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	dst := base
	for i := 1; fileExists(dst); i++ {
		dst = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(path, dst); err != nil {
		return "", err
	}
	return dst, syncDir(filepath.Dir(path))
}

// checkMarker is the file whose presence makes the next Open run a full
// check; it is created when bbolt panicked at run time.
func checkMarker(path string) string { return path + ".check" }

// writeCheckMarker asks the next Open for a full check.
func writeCheckMarker(path string) error {
	f, err := os.OpenFile(checkMarker(path), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs a directory so that a rename or create in it is durable.
func syncDir(dir string) error { return atomicfile.SyncDir(dir) }

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// closeQuietly closes b after a failure, ignoring errors and panics: the
// failure being reported matters more.
func closeQuietly(b *bolt.DB) {
	defer func() { _ = recover() }()
	_ = b.Close()
}
