package offline

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// appendResult is what an AppendDeferred's done reported.
type appendResult struct {
	seq uint64
	err error
}

// appendDeferred calls AppendDeferred and returns the channel its done
// reports on.
func appendDeferred(q *Queue, m Message, delay time.Duration) <-chan appendResult {
	res := make(chan appendResult, 1)
	q.AppendDeferred(m, delay, func(seq uint64, err error) { res <- appendResult{seq, err} })
	return res
}

func await(t *testing.T, res <-chan appendResult) appendResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("AppendDeferred's done was never called")
		return appendResult{}
	}
}

func TestQueue_AppendDeferred_ackedInTimeIsNeverWritten(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	before := d.Stats().Commits
	res := appendDeferred(q, Message{Topic: "a", Payload: []byte("x"), QoS: 1}, time.Hour)
	es := readN(t, q, 0, 1) // visible before its commit
	if string(es[0].Payload) != "x" || es[0].Topic != "a" {
		t.Fatalf("read %+v", es[0])
	}
	if st := q.Stats(); st.Messages != 1 || st.Deferred != 1 || st.Bytes != 2 {
		t.Fatalf("stats while deferred: %+v", st)
	}
	if err := q.Ack(es[0].Seq); err != nil {
		t.Fatal(err)
	}
	if r := await(t, res); r.err != nil || r.seq != es[0].Seq {
		t.Fatalf("done(%d, %v), want (%d, nil)", r.seq, r.err, es[0].Seq)
	}
	st := q.Stats()
	if st.Messages != 0 || st.Unwritten != 1 || st.Appended != 0 || st.Deferred != 0 {
		t.Fatalf("stats after ack: %+v", st)
	}
	if got := d.Stats().Commits; got != before {
		t.Fatalf("%d commits for a message acknowledged before its delay", got-before)
	}
}

func TestQueue_AppendDeferred_commitsWhenDue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	d := openTest(t, path, Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	start := time.Now()
	r := await(t, appendDeferred(q, Message{Topic: "a", Payload: []byte("x"), QoS: 1}, 50*time.Millisecond))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Fatalf("committed after %v, before its delay", waited)
	}
	if st := q.Stats(); st.Appended != 1 || st.Messages != 1 || st.Deferred != 0 {
		t.Fatalf("stats: %+v", st)
	}
	// The ack of a committed entry deletes it from the disk.
	if err := q.Ack(r.seq); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, path, Options{})
	if n := openQueue(t, d, "up", QueueOptions{}).Stats().Messages; n != 0 {
		t.Fatalf("%d messages after reopen", n)
	}
}

func TestQueue_AppendDeferred_closeCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	d := openTest(t, path, Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	res := appendDeferred(q, Message{Topic: "a", Payload: []byte("x"), QoS: 1}, time.Hour)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if r := await(t, res); r.err != nil {
		t.Fatalf("done after Close: %v", r.err)
	}
	d = openTest(t, path, Options{})
	q = openQueue(t, d, "up", QueueOptions{})
	if es := readAll(t, q); len(es) != 1 || string(es[0].Payload) != "x" {
		t.Fatalf("after reopen: %+v", es)
	}
	// Sequence numbers continue after the committed one.
	r := await(t, appendDeferred(q, Message{Topic: "b", QoS: 1}, 0))
	if r.err != nil || r.seq != 2 {
		t.Fatalf("next append: done(%d, %v), want seq 2", r.seq, r.err)
	}
}

// Sequence numbers and Read follow call order whatever the delays; each
// delay's done calls come in call order.
func TestQueue_AppendDeferred_mixedDelaysKeepOrder(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	delays := []time.Duration{0, time.Hour, 300 * time.Millisecond, 0, time.Hour, 300 * time.Millisecond}
	var results []<-chan appendResult
	for i := range 60 {
		delay := delays[i%len(delays)]
		m := Message{Topic: fmt.Sprintf("t/%d", i), Payload: []byte{byte(i)}, QoS: 1}
		if delay == 0 {
			res := make(chan appendResult, 1)
			q.AppendAsync(m, func(seq uint64, err error) { res <- appendResult{seq, err} })
			results = append(results, res)
			continue
		}
		results = append(results, appendDeferred(q, m, delay))
	}
	es := readN(t, q, 0, 60)
	for i, e := range es {
		if e.Seq != uint64(i+1) || e.Topic != fmt.Sprintf("t/%d", i) {
			t.Fatalf("entry %d: seq %d topic %s", i, e.Seq, e.Topic)
		}
	}
	// Acknowledge the hour-long ones: never written; the others commit.
	var hour []uint64
	for i, e := range es {
		if delays[i%len(delays)] == time.Hour {
			hour = append(hour, e.Seq)
		}
	}
	if err := q.Ack(hour...); err != nil {
		t.Fatal(err)
	}
	for i, res := range results {
		if r := await(t, res); r.err != nil || r.seq != uint64(i+1) {
			t.Fatalf("append %d: done(%d, %v)", i, r.seq, r.err)
		}
	}
	st := q.Stats()
	if st.Unwritten != uint64(len(hour)) || st.Appended != 60-uint64(len(hour)) || st.Messages != st.Appended {
		t.Fatalf("stats: %+v", st)
	}
	if rest := readAll(t, q); len(rest) != 40 {
		t.Fatalf("%d entries on disk, want 40", len(rest))
	}
}

func TestQueue_AppendDeferred_markReceivedCommitsFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	d := openTest(t, path, Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	res := appendDeferred(q, Message{Topic: "a", Payload: []byte("x"), QoS: 2}, time.Hour)
	es := readN(t, q, 0, 1)
	if err := q.MarkReceived(es[0].Seq); err != nil {
		t.Fatalf("MarkReceived of a deferred entry: %v", err)
	}
	if r := await(t, res); r.err != nil {
		t.Fatal(r.err)
	}
	// Committed now: an Ack deletes it from the disk, not from memory.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, path, Options{})
	q = openQueue(t, d, "up", QueueOptions{})
	if es := readAll(t, q); len(es) != 1 || !es[0].Received {
		t.Fatalf("after reopen: %+v", es)
	}
}

// Each bound on what waits in memory commits everything waiting at once,
// long before the delays run out.
func TestQueue_AppendDeferred_boundsForceCommit(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts Options
		n    int // appends of 10 bytes that cross the bound
	}{
		{"MaxDeferred", Options{MaxDeferred: 10}, 11},
		{"MaxDeferredBytes", Options{MaxDeferredBytes: 100}, 11},
		{"DeferredGroup", Options{DeferredGroup: 5}, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := openTest(t, filepath.Join(t.TempDir(), "q.db"), tt.opts)
			q := openQueue(t, d, "up", QueueOptions{})
			var results []<-chan appendResult
			for range tt.n {
				results = append(results, appendDeferred(q, Message{Topic: "a", Payload: make([]byte, 9), QoS: 1}, time.Hour))
			}
			for _, res := range results {
				if r := await(t, res); r.err != nil {
					t.Fatal(r.err)
				}
			}
			if st := q.Stats(); st.Appended != uint64(tt.n) {
				t.Fatalf("stats: %+v", st)
			}
		})
	}
}

func TestQueue_AppendDeferred_afterClose(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	_ = d.Close()
	if r := await(t, appendDeferred(q, Message{Topic: "a", QoS: 1}, time.Second)); r.err == nil {
		t.Fatal("append after Close succeeded")
	}
	if st := q.Stats(); st.Deferred != 0 {
		t.Fatalf("stats: %+v", st)
	}
}

// Concurrent deferred appends, reads and acks under -race: every append
// completes exactly once and the reader sees every entry once, in order.
func TestQueue_AppendDeferred_concurrent(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	const producers, each = 4, 500
	var wg sync.WaitGroup
	var mu sync.Mutex
	doneCount := map[uint64]int{}
	for p := range producers {
		wg.Go(func() {
			for n := range each {
				delay := time.Duration(n%3) * 5 * time.Millisecond
				q.AppendDeferred(Message{Topic: fmt.Sprintf("p%d", p), Payload: fmt.Appendf(nil, "%d", n), QoS: 1}, delay,
					func(seq uint64, err error) {
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							t.Errorf("append: %v", err)
						}
						doneCount[seq]++
					})
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var after uint64
	seen := 0
	for seen < producers*each {
		es, err := q.Read(ctx, after, 64)
		if err != nil {
			t.Fatalf("read after %d (%d seen): %v", after, seen, err)
		}
		var seqs []uint64
		for _, e := range es {
			if e.Seq <= after {
				t.Fatalf("seq %d after %d", e.Seq, after)
			}
			after = e.Seq
			seqs = append(seqs, e.Seq)
		}
		seen += len(es)
		q.AckAsync(seqs, nil)
	}
	wg.Wait()
	waitFor(t, "every done", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(doneCount) == producers*each
	})
	for seq, n := range doneCount {
		if n != 1 {
			t.Fatalf("seq %d completed %d times", seq, n)
		}
	}
	waitFor(t, "an empty queue", func() bool {
		if st := q.Stats(); st.Messages != 0 {
			t.Logf("%+v", st)
			return false
		}
		return true
	})
}

// TestQueue_Read_deferredAppendedDuringRead: a deferred append and a later
// append written at once both land between Read's look at the pending
// entries and its scan of the disk, the later one committed before the
// scan. Read must return the deferred one first: a reader that got the
// later one first would move its position past the deferred one and never
// send it (found by the power-cut test: QoS 1 messages arrived after later
// ones, one restart late).
func TestQueue_Read_deferredAppendedDuringRead(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	var once sync.Once
	testHookPending = func() {
		once.Do(func() {
			q.AppendDeferred(Message{Topic: "deferred", QoS: 1}, time.Hour, func(uint64, error) {})
			if _, err := q.Append(context.Background(), Message{Topic: "at once", QoS: 2}); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(func() { testHookPending = nil })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	es, err := q.Read(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 || es[0].Topic != "deferred" {
		t.Fatalf("Read = %+v, want the deferred entry (seq 1) first", es)
	}
}
