package offline

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// appendQoS appends one message at qos with ttl and returns its seq.
func appendQoS(t *testing.T, q *Queue, qos byte, ttl time.Duration) uint64 {
	t.Helper()
	seq, err := q.Append(context.Background(), Message{Topic: "t", Payload: []byte("p"), QoS: qos, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// orphansOf returns q.Orphans(0) or fails the test.
func orphansOf(t *testing.T, q *Queue) []uint64 {
	t.Helper()
	o, _, err := q.Orphans(0)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestQueue_orphans: a QoS 2 entry that expires, overflows or is
// quarantined after a reader got it is remembered (the upstream may hold
// its packet identifier); QoS 1 entries, entries marked received that are
// acknowledged, and entries no reader got are not. Entries queued when the
// queue is opened count as read (a previous process may have sent them).
// The orphans survive a reopen until forgotten.
func TestQueue_orphans(t *testing.T) {
	fc := newFakeClock()
	path := filepath.Join(t.TempDir(), "q.db")
	d := openTest(t, path, Options{clock: fc.clock()})
	q := openQueue(t, d, "up", QueueOptions{MaxMessages: 6, Overflow: DropOldest})

	q2 := appendQoS(t, q, 2, time.Minute)    // read, then expires: orphan
	q1 := appendQoS(t, q, 1, time.Minute)    // read, then expires: QoS 1, no state upstream
	acked := appendQoS(t, q, 2, time.Minute) // read, acknowledged
	quar := appendQoS(t, q, 2, 0)            // read, then quarantined: orphan
	readAll(t, q)
	unread := appendQoS(t, q, 2, time.Minute) // expires before any reader got it
	if err := q.Ack(acked); err != nil {
		t.Fatal(err)
	}
	if err := q.Quarantine(quar, "test"); err != nil {
		t.Fatal(err)
	}
	fc.advance(2 * time.Minute)
	// unread is gone before a reader gets it: Read passed it by.
	if es, err := q.Read(canceled(), 0, 10); len(es) != 0 || err == nil {
		t.Fatalf("Read after expiry = %v, %v; want nothing", seqsOf(es), err)
	}
	expiredCount(t, q, 3)
	if got, want := orphansOf(t, q), []uint64{q2, quar}; !slices.Equal(got, want) {
		t.Fatalf("orphans = %v, want %v (QoS 1 %d, acknowledged %d and unread %d are not)", got, want, q1, acked, unread)
	}

	// Overflow: six queued at open, as if a previous process sent them.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, path, Options{clock: fc.clock()})
	q = openQueue(t, d, "up", QueueOptions{MaxMessages: 6, Overflow: DropOldest})
	var old []uint64
	for range 6 {
		old = append(old, appendQoS(t, q, 2, 0))
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, path, Options{clock: fc.clock()})
	q = openQueue(t, d, "up", QueueOptions{MaxMessages: 6, Overflow: DropOldest})
	if got, want := orphansOf(t, q), []uint64{q2, quar}; !slices.Equal(got, want) {
		t.Fatalf("orphans after reopen = %v, want %v", got, want)
	}
	fresh := appendQoS(t, q, 2, 0) // drops old[0], queued at open
	for range 6 {                  // drop old[1:] and fresh, which no reader got
		appendQoS(t, q, 2, 0)
	}
	if st := q.Stats(); st.Dropped[DroppedOverflowOldest] != 7 {
		t.Fatalf("overflow drops = %d, want 7", st.Dropped[DroppedOverflowOldest])
	}
	want := append([]uint64{q2, quar}, old...)
	got, gen, err := q.Orphans(0)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("orphans after overflow = %v (%v), want %v (not %d: appended after the open, never read)", got, err, want, fresh)
	}
	if again, gen2, err := q.Orphans(gen); again != nil || gen2 != gen || err != nil {
		t.Fatalf("Orphans(%d) with none added since = %v, %d, %v; want nothing, the same gen", gen, again, gen2, err)
	}

	done := make(chan error, 1)
	q.ForgetOrphansAsync(want[:3], func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, path, Options{clock: fc.clock()})
	q = openQueue(t, d, "up", QueueOptions{MaxMessages: 6, Overflow: DropOldest})
	if got := orphansOf(t, q); !slices.Equal(got, want[3:]) {
		t.Fatalf("orphans after forgetting %v and a reopen = %v, want %v", want[:3], got, want[3:])
	}
}

// canceled returns a context that is already done: Read returns what is
// there without waiting.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
