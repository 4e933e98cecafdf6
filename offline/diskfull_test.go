package offline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestQueue_Append_diskFull fills a 2 MiB tmpfs: an Append whose commit
// cannot be written must fail with ENOSPC (and not be acknowledged); a
// reboot on the full disk must still open and read the queue; once space is
// freed appends work again; nothing acknowledged is lost.
func TestQueue_Append_diskFull(t *testing.T) {
	mnt := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("skipping: cannot mount a 2 MiB tmpfs to fill (needs root with CAP_SYS_ADMIN): %v %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
	})
	path := filepath.Join(mnt, "q.db")
	fc := newFakeClock()
	opts := Options{CompactMinSize: -1, clock: fc.clock()}
	d := openTest(t, path, opts)
	q := openQueue(t, d, "up", QueueOptions{})
	acked := map[uint64]string{}
	appendOne := func(name string) error {
		payload := fmt.Sprintf("%s-%s", name, bytes.Repeat([]byte("x"), 3000))
		seq, err := q.Append(context.Background(), Message{Topic: name, Payload: []byte(payload), QoS: 1})
		if err == nil {
			acked[seq] = payload
		}
		return err
	}
	for i := range 50 {
		if err := appendOne(fmt.Sprintf("before-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	filler := fillFS(t, filepath.Join(mnt, "filler"))

	var fullErr error
	for i := 0; i < 2000 && fullErr == nil; i++ {
		fullErr = appendOne(fmt.Sprintf("filling-%d", i))
	}
	if !errors.Is(fullErr, syscall.ENOSPC) {
		t.Fatalf("Append on a full disk: %v, want an error wrapping ENOSPC", fullErr)
	}
	if err := appendOne("still-full"); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("second Append on a full disk: %v, want ENOSPC", err)
	}
	if st := d.Stats(); st.CommitErrors < 2 {
		t.Errorf("CommitErrors = %d, want ≥ 2", st.CommitErrors)
	}
	t.Logf("disk full after %d acknowledged appends: %v", len(acked), fullErr)

	// Reboot with the disk still full: Open must not need to write.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	fc.reboot("boot-b", 5*time.Second, time.Unix(0, 0))
	d = openTest(t, path, opts)
	q = openQueue(t, d, "up", QueueOptions{})
	if es := readAll(t, q); len(es) != len(acked) {
		t.Fatalf("reopened on a full disk: %d entries, want %d", len(es), len(acked))
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := appendOne(fmt.Sprintf("after-%d", i)); err != nil {
			t.Fatalf("Append after freeing space: %v", err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d = openTest(t, path, opts)
	es := readAll(t, openQueue(t, d, "up", QueueOptions{}))
	if len(es) != len(acked) {
		t.Errorf("%d entries after reopen, %d were acknowledged", len(es), len(acked))
	}
	for _, e := range es {
		if acked[e.Seq] != string(e.Payload) {
			t.Fatalf("seq %d (%s) stored but not acknowledged as such", e.Seq, e.Topic)
		}
		delete(acked, e.Seq)
	}
	for seq := range acked {
		t.Errorf("acknowledged seq %d lost", seq)
	}
}

// fillFS writes path until the file system is full and returns path.
func fillFS(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling: %v", err)
			}
			return path
		}
	}
}
