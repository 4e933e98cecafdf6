package offline

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// bigFill appends n messages of 1 KiB to q.
func bigFill(t *testing.T, q *Queue, n int) {
	t.Helper()
	payload := bytes.Repeat([]byte("p"), 1024)
	errs := make(chan error, n)
	for i := range n {
		q.AppendAsync(Message{Topic: fmt.Sprintf("big/%d", i), Payload: payload}, func(_ uint64, err error) { errs <- err })
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// drain reads and acknowledges everything in q, 500 at a time, and returns
// the last seq.
func drain(t *testing.T, q *Queue) uint64 {
	t.Helper()
	var after uint64
	for q.Stats().Messages > 0 {
		es := readN(t, q, after, min(500, int(q.Stats().Messages)))
		seqs := seqsOf(es)
		if err := q.Ack(seqs...); err != nil {
			t.Fatal(err)
		}
		after = seqs[len(seqs)-1]
	}
	return after
}

// keepers stores what must survive a compaction: a second queue and a KV.
func keepers(t *testing.T, d *DB) []Entry {
	t.Helper()
	down := openQueue(t, d, "down", QueueOptions{})
	fill(t, down, 10)
	if err := down.MarkReceived(3); err != nil {
		t.Fatal(err)
	}
	if err := d.KV("retained").Put("sensors/a", []byte("21.5")); err != nil {
		t.Fatal(err)
	}
	return readAll(t, down)
}

// checkKeepers checks what keepers stored.
func checkKeepers(t *testing.T, d *DB, want []Entry) {
	t.Helper()
	assertEntries(t, readAll(t, openQueue(t, d, "down", QueueOptions{})), want)
	if v, ok, err := d.KV("retained").Get("sensors/a"); err != nil || !ok || string(v) != "21.5" {
		t.Fatalf("KV after compaction: %q %v %v", v, ok, err)
	}
}

func TestDB_compact_whenQueueDrains(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	d := openTest(t, path, Options{})
	want := keepers(t, d)
	up := openQueue(t, d, "up", QueueOptions{})
	bigFill(t, up, 8000)
	full := d.Stats().FileSize

	// A reader waits on the empty queue across the compaction.
	got := make(chan []Entry, 1)
	lastSeq := drain(t, up)
	go func() {
		es, err := up.Read(context.Background(), lastSeq, 10)
		if err != nil {
			t.Error(err)
		}
		got <- es
	}()
	waitFor(t, "compaction", func() bool { return d.Stats().Compactions == 1 })
	small := d.Stats().FileSize
	t.Logf("file %d KiB with 8,000 messages of 1 KiB, %d KiB after draining", full>>10, small>>10)
	if small*10 > full {
		t.Fatalf("file did not shrink: %d → %d bytes", full, small)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	checkKeepers(t, d, want)

	seq, err := up.Append(context.Background(), Message{Topic: "after"})
	if err != nil {
		t.Fatal(err)
	}
	if seq != lastSeq+1 {
		t.Errorf("sequence after compaction = %d, want %d", seq, lastSeq+1)
	}
	if es := <-got; len(es) != 1 || es[0].Seq != seq {
		t.Fatalf("reader waiting across the compaction got %+v", es)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, path, Options{})
	checkKeepers(t, d, want)
	if es := readAll(t, openQueue(t, d, "up", QueueOptions{})); len(es) != 1 || es[0].Topic != "after" {
		t.Fatalf("queue up after reopen: %+v", es)
	}
}

func TestOpen_compactsMostlyFreeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	d := openTest(t, path, Options{CompactMinSize: -1})
	want := keepers(t, d)
	up := openQueue(t, d, "up", QueueOptions{})
	bigFill(t, up, 5000)
	drain(t, up)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)

	d = openTest(t, path, Options{})
	st := d.Stats()
	t.Logf("Open compacted %d KiB to %d KiB", fi.Size()>>10, st.FileSize>>10)
	if st.Compactions != 1 || st.FileSize*4 > fi.Size() {
		t.Fatalf("Open did not compact a mostly free file: %+v (was %d bytes)", st, fi.Size())
	}
	checkKeepers(t, d, want)

	// A small file, or one mostly in use, is left alone.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, path, Options{})
	if st := d.Stats(); st.Compactions != 0 {
		t.Fatalf("compacted again: %+v", st)
	}
}
