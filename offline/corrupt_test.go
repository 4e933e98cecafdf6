package offline

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// buildDB writes a DB with n messages in queue "up" and a KV pair, closed.
func buildDB(t *testing.T, path string, n int) {
	t.Helper()
	d := openTest(t, path, Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	fill(t, q, n)
	if err := d.KV("sessions").Put("client-1", []byte("state")); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// pageSize is the page size bbolt uses for new files here.
var pageSize = os.Getpagesize()

func TestOpen_corruptFileMovedAside(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"garbage", func(t *testing.T, path string) {
			writeFile(t, path, randomBytes(t, 64<<10))
		}},
		{"too short", func(t *testing.T, path string) {
			writeFile(t, path, []byte("not a database"))
		}},
		{"truncated real DB", func(t *testing.T, path string) {
			buildDB(t, path, 3000)
			fi, _ := os.Stat(path)
			if err := os.Truncate(path, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}},
		{"both meta pages damaged", func(t *testing.T, path string) {
			buildDB(t, path, 10)
			overwrite(t, path, 16+8, []byte{0xff, 0xff, 0xff, 0xff})
			overwrite(t, path, int64(pageSize)+16+8, []byte{0xff, 0xff, 0xff, 0xff})
		}},
		{"every data page garbage", func(t *testing.T, path string) {
			buildDB(t, path, 3000)
			fi, _ := os.Stat(path)
			overwrite(t, path, 2*int64(pageSize), randomBytes(t, int(fi.Size())-2*pageSize))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "q.db")
			tt.damage(t, path)
			damaged, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			d := openTest(t, path, Options{Logger: log})

			st := d.Stats()
			if !st.CorruptRecovered || !strings.HasPrefix(st.CorruptPath, path+".corrupt-") || st.CorruptReason == "" {
				t.Fatalf("DBStats = %+v, want CorruptRecovered with the moved path", st)
			}
			t.Logf("reason: %s", st.CorruptReason)
			if moved, err := os.ReadFile(st.CorruptPath); err != nil || !bytes.Equal(moved, damaged) {
				t.Fatalf("moved-aside file differs from the damaged one (err %v)", err)
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), st.CorruptPath) {
				t.Errorf("no Error log naming %s; logs:\n%s", st.CorruptPath, logs.String())
			}
			q := openQueue(t, d, "up", QueueOptions{})
			if st := q.Stats(); st.Messages != 0 {
				t.Fatalf("fresh DB has %d messages", st.Messages)
			}
			appendN(t, q, 3, 0)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}

			d = openTest(t, path, Options{})
			if d.Stats().CorruptRecovered {
				t.Fatal("the fresh DB was reported corrupt on the next Open")
			}
			if got := len(readAll(t, openQueue(t, d, "up", QueueOptions{}))); got != 3 {
				t.Fatalf("fresh DB lost its messages: %d, want 3", got)
			}
		})
	}
}

func TestOpen_lockedFileIsNotCorrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "q.db")
	d := openTest(t, path, Options{})
	appendN(t, openQueue(t, d, "up", QueueOptions{}), 5, 0)

	_, err := Open(path, Options{Timeout: 100 * time.Millisecond, Logger: quietLogger})
	if !errors.Is(err, bolterrors.ErrTimeout) {
		t.Fatalf("Open of a locked file = %v, want a wrapped bbolt ErrTimeout", err)
	}
	if matches, _ := filepath.Glob(path + ".corrupt-*"); len(matches) != 0 {
		t.Fatalf("a locked file was moved aside: %v", matches)
	}
}

// TestOpen_damagedPageAtRunTime damages a leaf page in the middle of the
// queue, which the cheap check at Open does not read. Reading it makes bbolt
// panic: the Read must fail with ErrCorrupt instead of crashing, and the
// next Open must run the full check and move the file aside.
func TestOpen_damagedPageAtRunTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	buildDB(t, path, 3000)
	leaf := middleLeafPage(t, path)
	overwrite(t, path, int64(leaf*pageSize), randomBytes(t, pageSize))

	d := openTest(t, path, Options{})
	if d.Stats().CorruptRecovered {
		t.Fatal("the cheap check found the middle page: this test needs a page it does not read")
	}
	q := openQueue(t, d, "up", QueueOptions{})
	_, err := q.Read(context.Background(), 0, 3000)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Read over a damaged page = %v, want ErrCorrupt", err)
	}
	if d.Stats().CorruptErrors == 0 {
		t.Error("CorruptErrors not counted")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d = openTest(t, path, Options{})
	if st := d.Stats(); !st.CorruptRecovered {
		t.Fatalf("Open after a run-time corruption did not run the full check: %+v", st)
	}
	if _, err := os.Stat(checkMarker(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("check marker left behind: %v", err)
	}
}

// middleLeafPage returns the id of a leaf page with entries that is neither
// the first nor the last leaf.
func middleLeafPage(t *testing.T, path string) int {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var leaves []int
	_ = b.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			info, err := tx.Page(id)
			if err != nil || info == nil {
				return err
			}
			if info.Type == "leaf" && info.Count > 10 {
				leaves = append(leaves, id)
			}
		}
	})
	if len(leaves) < 5 {
		t.Fatalf("only %d leaf pages", len(leaves))
	}
	return leaves[len(leaves)/2]
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func overwrite(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
