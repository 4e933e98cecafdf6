package offline

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The compacted file is locked from the moment it is renamed into place:
// another process (`gateway queue stats`) opening the path during the swap
// must wait for the lock, not open a file the DB is about to write (issue
// 10 §4).
func TestDB_compact_fileLockedDuringSwap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	opened := make(chan error, 10)
	old := compactRenamed
	compactRenamed = func(p string) { // on the writer goroutine
		b, err := bolt.Open(p, 0o600, &bolt.Options{Timeout: 50 * time.Millisecond, ReadOnly: true})
		if err == nil {
			b.Close()
		}
		opened <- err
	}
	t.Cleanup(func() { compactRenamed = old })
	d := openTest(t, path, Options{CompactMinSize: 1 << 20})
	up := openQueue(t, d, "up", QueueOptions{})
	bigFill(t, up, 2000)
	drain(t, up) // the queue empties: the writer compacts
	waitFor(t, "compaction", func() bool { return d.Stats().Compactions == 1 })
	if openErr := <-opened; !errors.Is(openErr, bolterrors.ErrTimeout) {
		t.Fatalf("opening the store during the swap: %v, want bbolt's lock timeout", openErr)
	}
	if _, err := up.Append(t.Context(), Message{Topic: "after"}); err != nil {
		t.Fatalf("append after compaction: %v", err)
	}
}
