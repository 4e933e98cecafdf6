package offline_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgegw/edgegw/offline"
)

// TestReadQueueStats_readOnly: ReadQueueStats reports a closed store's
// queue depth and stored drop counters without changing a byte of the file,
// even when the file is read-only; while the store is open it waits for the
// lock and times out.
func TestReadQueueStats_readOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway.db")
	db, err := offline.Open(path, offline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := db.Queue("uplink", offline.QueueOptions{MaxMessages: 2, Overflow: offline.DropOldest})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "bb", "ccc"} {
		if _, err := q.Append(context.Background(), offline.Message{Topic: "t", Payload: []byte(p), QoS: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := offline.ReadQueueStats(path, "uplink", 100*time.Millisecond); !errors.Is(err, offline.ErrLocked) {
		t.Errorf("ReadQueueStats while the store is open read-write: %v, want ErrLocked", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	st, err := offline.ReadQueueStats(path, "uplink", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 2 || st.Bytes != 3+4 || st.Quarantined != 0 || st.Name != "uplink" ||
		st.Dropped[offline.DroppedOverflowOldest] != 1 {
		t.Errorf("stats = %+v, want 2 messages, 7 bytes, 1 dropped overflow_oldest", st)
	}
	after, _ := os.ReadFile(path)
	fi2, _ := os.Stat(path)
	if !bytes.Equal(before, after) || !fi.ModTime().Equal(fi2.ModTime()) || fi2.Mode() != fi.Mode() {
		t.Error("ReadQueueStats changed the file")
	}
	if _, err := offline.ReadQueueStats(path, "nosuch", time.Second); !errors.Is(err, offline.ErrNoQueue) {
		t.Errorf("unknown queue: %v, want ErrNoQueue", err)
	}
}
