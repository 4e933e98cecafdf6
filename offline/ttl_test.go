package offline

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// seqsOf lists the seqs of entries.
func seqsOf(es []Entry) []uint64 {
	var s []uint64
	for _, e := range es {
		s = append(s, e.Seq)
	}
	return s
}

// expiredCount waits until q counted want expired entries (expired entries
// are deleted asynchronously after the Read that met them).
func expiredCount(t *testing.T, q *Queue, want uint64) {
	t.Helper()
	waitFor(t, "expired count", func() bool {
		st := q.Stats()
		return st.Dropped[DroppedExpired] == want && st.Messages+want > 0
	})
}

func TestQueue_Read_ttlExpiry(t *testing.T) {
	fc := newFakeClock()
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{clock: fc.clock()})
	q := openQueue(t, d, "up", QueueOptions{})
	short := appendN(t, q, 2, 10*time.Second)
	forever := appendN(t, q, 1, 0)
	long := appendN(t, q, 1, time.Hour)

	fc.advance(9 * time.Second)
	if got := seqsOf(readAll(t, q)); len(got) != 4 {
		t.Fatalf("after 9 s: %v, want all 4", got)
	}
	fc.advance(time.Second) // 10 s: the short ones are due
	got := seqsOf(readN(t, q, 0, 2))
	if want := []uint64{forever[0], long[0]}; !slices.Equal(got, want) {
		t.Fatalf("after 10 s: %v, want %v", got, want)
	}
	expiredCount(t, q, 2)
	if st := q.Stats(); st.Messages != 2 {
		t.Errorf("depth after expiry = %d, want 2", st.Messages)
	}
	if err := q.Ack(short...); err != nil { // gone already: ignored
		t.Fatal(err)
	}
	if st := q.Stats(); st.Acked != 0 {
		t.Errorf("acking expired entries counted %d acks", st.Acked)
	}
}

func TestQueue_Read_wallClockStepDoesNotExpire(t *testing.T) {
	fc := newFakeClock()
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{clock: fc.clock()})
	q := openQueue(t, d, "up", QueueOptions{})
	seqs := appendN(t, q, 5, time.Minute)
	enqueued := fc.clock().now()

	// NTP steps the clock 50 years forward, then someone sets it back to 1970.
	fc.stepWall(enqueued.AddDate(50, 0, 0))
	if got := seqsOf(readAll(t, q)); !slices.Equal(got, seqs) {
		t.Fatalf("after a forward wall step: %v, want %v", got, seqs)
	}
	fc.stepWall(time.Unix(0, 0))
	es := readAll(t, q)
	if got := seqsOf(es); !slices.Equal(got, seqs) {
		t.Fatalf("after a backward wall step: %v, want %v", got, seqs)
	}
	if !es[0].Enqueued.Equal(enqueued) {
		t.Errorf("Enqueued = %v, want the append time %v", es[0].Enqueued, enqueued)
	}
	if st := q.Stats(); st.Dropped[DroppedExpired] != 0 || st.OldestAge != 0 {
		t.Errorf("wall steps changed ages: %+v", st)
	}
	fc.advance(time.Minute) // the boot-relative clock still expires them on time
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if got, err := q.Read(ctx, 0, 10); err == nil {
		t.Fatalf("after the TTL: %v, want nothing", seqsOf(got))
	}
	expiredCount(t, q, 5)
}

func TestQueue_Read_ttlAcrossReboot(t *testing.T) {
	fc := newFakeClock()
	path := filepath.Join(t.TempDir(), "q.db")
	d := openTest(t, path, Options{clock: fc.clock()})
	q := openQueue(t, d, "up", QueueOptions{})
	seqs := appendN(t, q, 3, 10*time.Second)
	received := seqs[2]
	if err := q.MarkReceived(received); err != nil {
		t.Fatal(err)
	}
	fc.advance(8 * time.Second)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// Same boot, new process: the stamps are comparable, 8 s + 1 s < 10 s.
	fc.advance(time.Second)
	d = openTest(t, path, Options{clock: fc.clock()})
	q = openQueue(t, d, "up", QueueOptions{})
	if got := seqsOf(readAll(t, q)); !slices.Equal(got, seqs) {
		t.Fatalf("same boot after 9 s: %v, want %v", got, seqs)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// Reboot of a board without RTC: boot time restarts at 3 s, the wall
	// clock says 1970. Age counts from the first Open in this boot.
	fc.reboot("boot-b", 3*time.Second, time.Unix(0, 0))
	d = openTest(t, path, Options{clock: fc.clock()})
	q = openQueue(t, d, "up", QueueOptions{})
	fc.advance(9 * time.Second)
	if got := seqsOf(readAll(t, q)); !slices.Equal(got, seqs) {
		t.Fatalf("9 s into the new boot: %v, want %v", got, seqs)
	}
	fc.stepWall(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) // NTP arrives
	fc.advance(time.Second)
	got := seqsOf(readN(t, q, 0, 1))
	if !slices.Equal(got, []uint64{received}) {
		t.Fatalf("10 s into the new boot: %v, want only the received entry %d (never expires)", got, received)
	}
	expiredCount(t, q, 2)
}

// TestQueue_Read_ageAndProps: Read reports each entry's age on the
// boot-relative clock, and its properties, both while its commit is
// deferred (in memory) and once it is on disk; the caller may reuse the
// Props buffer it appended.
func TestQueue_Read_ageAndProps(t *testing.T) {
	fc := newFakeClock()
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{clock: fc.clock()})
	q := openQueue(t, d, "up", QueueOptions{})
	props := []byte("opaque props")
	deferred := make(chan error, 1)
	q.AppendDeferred(Message{Topic: "d", Payload: []byte("x"), QoS: 1, Props: props, TTL: time.Minute}, time.Hour,
		func(_ uint64, err error) { deferred <- err })
	if _, err := q.Append(context.Background(), Message{Topic: "c", QoS: 1, Props: props}); err != nil {
		t.Fatal(err)
	}
	copy(props, "XXXXXXXXXXXX")
	fc.advance(7 * time.Second)
	es := readAll(t, q)
	if len(es) != 2 {
		t.Fatalf("read %d entries", len(es))
	}
	for _, e := range es {
		if string(e.Props) != "opaque props" || e.Age != 7*time.Second {
			t.Errorf("entry %s: props %q, age %v; want the appended props, 7s", e.Topic, e.Props, e.Age)
		}
	}
	if st := q.Stats(); st.Bytes != uint64(2*len(props)+len("dx")+len("c")) {
		t.Errorf("queue bytes %d: props count against max_bytes", st.Bytes)
	}
}
