package offline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestQueue_AppendReadAck_order(t *testing.T) {
	fc := newFakeClock()
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{clock: fc.clock()})
	q := openQueue(t, d, "up", QueueOptions{})

	var want []Entry
	for i := range 10 {
		m := Message{Topic: fmt.Sprintf("sensors/%d", i), Payload: bytes.Repeat([]byte{byte(i)}, i*100),
			QoS: byte(i % 3), Retain: i%2 == 0, TTL: time.Duration(i) * time.Hour}
		seq, err := q.Append(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, Entry{Seq: seq, Message: m, Enqueued: fc.clock().now()})
		fc.advance(time.Second)
	}
	for i := 1; i < len(want); i++ {
		if want[i].Seq <= want[i-1].Seq {
			t.Fatalf("seqs not increasing: %d after %d", want[i].Seq, want[i-1].Seq)
		}
	}
	got := readN(t, q, 0, 10)
	assertEntries(t, got, want)

	mid, err := q.Read(context.Background(), want[4].Seq, 3)
	if err != nil {
		t.Fatal(err)
	}
	assertEntries(t, mid, want[5:8])

	if err := q.Ack(want[0].Seq, want[1].Seq, want[2].Seq, want[3].Seq, want[4].Seq, 9999); err != nil {
		t.Fatal(err)
	}
	assertEntries(t, readAll(t, q), want[5:])
	st := q.Stats()
	var wantBytes uint64
	for _, e := range want[5:] {
		wantBytes += uint64(len(e.Topic) + len(e.Payload))
	}
	if st.Messages != 5 || st.Bytes != wantBytes || st.Appended != 10 || st.Acked != 5 {
		t.Errorf("Stats = %+v, want 5 messages, %d bytes, 10 appended, 5 acked", st, wantBytes)
	}
	if st.OldestAge != 5*time.Second { // want[5] was appended 5 s before the clock's now
		t.Errorf("OldestAge = %v, want 5s", st.OldestAge)
	}
}

// assertEntries compares entries field by field (time with Equal).
func assertEntries(t *testing.T, got, want []Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.Topic != w.Topic || !bytes.Equal(g.Payload, w.Payload) || g.QoS != w.QoS ||
			g.Retain != w.Retain || g.TTL != w.TTL || g.Received != w.Received || !g.Enqueued.Equal(w.Enqueued) {
			t.Fatalf("entry %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestQueue_Read_blocksUntilAppend(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	appendN(t, q, 2, 0)

	got := make(chan []Entry, 1)
	go func() {
		es, err := q.Read(context.Background(), 2, 10) // nothing after 2 yet
		if err != nil {
			t.Error(err)
		}
		got <- es
	}()
	seq, err := q.Append(context.Background(), Message{Topic: "late", Payload: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	es := <-got
	if len(es) != 1 || es[0].Seq != seq || es[0].Topic != "late" {
		t.Fatalf("Read = %+v, want the late entry %d", es, seq)
	}
}

func TestQueue_Read_endsWithContextAndClose(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	q := openQueue(t, d, "up", QueueOptions{})

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := q.Read(ctx, 0, 1)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Read after cancel: %v, want context.Canceled", err)
	}

	go func() {
		_, err := q.Read(context.Background(), 0, 1)
		errc <- err
	}()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Read across Close: %v, want ErrClosed", err)
	}
}

func TestQueue_reopen_redeliversInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	d := openTest(t, path, Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	seqs := appendN(t, q, 100, 0)
	before := readAll(t, q) // read, never acknowledged
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d = openTest(t, path, Options{})
	q = openQueue(t, d, "up", QueueOptions{})
	st := q.Stats()
	if st.Messages != 100 || st.Bytes != sumBytes(before) {
		t.Fatalf("after reopen Stats = %+v, want 100 messages, %d bytes", st, sumBytes(before))
	}
	assertEntries(t, readAll(t, q), before)

	if err := q.Ack(seqs[:50]...); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, path, Options{})
	q = openQueue(t, d, "up", QueueOptions{})
	assertEntries(t, readAll(t, q), before[50:])
	next, err := q.Append(context.Background(), Message{Topic: "n"})
	if err != nil {
		t.Fatal(err)
	}
	if next != seqs[99]+1 {
		t.Errorf("sequence after reopen = %d, want %d", next, seqs[99]+1)
	}
}

func sumBytes(es []Entry) uint64 {
	var n uint64
	for _, e := range es {
		n += uint64(len(e.Topic) + len(e.Payload))
	}
	return n
}

func TestQueue_MarkReceived_survivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	d := openTest(t, path, Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	seqs := appendN(t, q, 3, 0)
	if err := q.MarkReceived(seqs[1]); err != nil {
		t.Fatal(err)
	}
	if err := q.MarkReceived(12345); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkReceived(unknown) = %v, want ErrNotFound", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, path, Options{})
	q = openQueue(t, d, "up", QueueOptions{})
	es := readAll(t, q)
	got := []bool{es[0].Received, es[1].Received, es[2].Received}
	if !slices.Equal(got, []bool{false, true, false}) {
		t.Fatalf("Received flags after reopen = %v, want [false true false]", got)
	}
	if es[1].Topic != "t/1" || string(es[1].Payload) != "m1" {
		t.Errorf("marked entry changed: %+v", es[1])
	}
}

func TestQueue_Quarantine(t *testing.T) {
	fc := newFakeClock()
	path := filepath.Join(t.TempDir(), "q.db")
	d := openTest(t, path, Options{clock: fc.clock()})
	q := openQueue(t, d, "up", QueueOptions{})
	seqs := appendN(t, q, 3, 0)
	if err := q.Quarantine(seqs[0], "upstream refused: not authorized"); err != nil {
		t.Fatal(err)
	}
	if err := q.Quarantine(seqs[0], "again"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Quarantine = %v, want ErrNotFound", err)
	}
	if st := q.Stats(); st.Messages != 2 || st.Quarantined != 1 {
		t.Errorf("Stats = %+v, want 2 messages, 1 quarantined", st)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, path, Options{clock: fc.clock()})
	q = openQueue(t, d, "up", QueueOptions{})
	if es := readAll(t, q); len(es) != 2 || es[0].Seq != seqs[1] {
		t.Fatalf("queue after quarantine = %+v", es)
	}
	var n int
	err := q.ForEachQuarantined(func(e Entry, reason string, at time.Time) error {
		n++
		if e.Seq != seqs[0] || e.Topic != "t/0" || string(e.Payload) != "m0" ||
			reason != "upstream refused: not authorized" || !at.Equal(fc.clock().now()) {
			t.Errorf("quarantined %+v reason %q at %v", e, reason, at)
		}
		return nil
	})
	if err != nil || n != 1 {
		t.Fatalf("ForEachQuarantined: %d entries, err %v", n, err)
	}
	if st := q.Stats(); st.Quarantined != 1 {
		t.Errorf("Quarantined after reopen = %d, want 1", st.Quarantined)
	}
}

func TestQueue_AppendAsync_invalidKeepsOrder(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	var order []string
	done := make(chan struct{})
	record := func(name string) func(uint64, error) {
		return func(seq uint64, err error) {
			order = append(order, fmt.Sprintf("%s:%d:%v", name, seq, errors.Is(err, ErrInvalid)))
			if name == "c" {
				close(done)
			}
		}
	}
	q.AppendAsync(Message{Topic: "a"}, record("a"))
	q.AppendAsync(Message{Topic: "b", QoS: 3}, record("b"))
	q.AppendAsync(Message{Topic: "c"}, record("c"))
	<-done
	want := []string{"a:1:false", "b:0:true", "c:2:false"}
	if !slices.Equal(order, want) {
		t.Fatalf("done order = %v, want %v", order, want)
	}
	if _, err := q.Append(context.Background(), Message{TTL: -time.Second}); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative TTL: %v, want ErrInvalid", err)
	}
}

func TestQueue_Append_cancelledContext(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Append(ctx, Message{Topic: "x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append(cancelled) = %v, want context.Canceled", err)
	}
	if st := q.Stats(); st.Messages != 0 {
		t.Fatalf("cancelled append stored: %+v", st)
	}
}

func TestDB_Close_idempotentAndFinal(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	kv := d.KV("retained")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := q.Append(context.Background(), Message{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	var asyncErr error
	q.AppendAsync(Message{}, func(_ uint64, err error) { asyncErr = err })
	if !errors.Is(asyncErr, ErrClosed) {
		t.Errorf("AppendAsync after Close: %v", asyncErr)
	}
	if err := q.Ack(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Ack after Close: %v", err)
	}
	if _, err := q.Read(context.Background(), 0, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if err := kv.Put("k", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("KV.Put after Close: %v", err)
	}
	if _, err := d.Queue("other", QueueOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Queue after Close: %v", err)
	}
}

func TestDB_Queue_sameName(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	a := openQueue(t, d, "up", QueueOptions{MaxMessages: 5})
	if b := openQueue(t, d, "up", QueueOptions{MaxMessages: 5}); a != b {
		t.Error("second Queue with the same name returned a different *Queue")
	}
	if _, err := d.Queue("up", QueueOptions{MaxMessages: 6}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Queue with other options: %v, want ErrInvalid", err)
	}
	if _, err := d.Queue("", QueueOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Queue(\"\"): %v, want ErrInvalid", err)
	}
	other := openQueue(t, d, "down", QueueOptions{})
	appendN(t, a, 2, 0)
	if st := other.Stats(); st.Messages != 0 {
		t.Errorf("queues share entries: %+v", st)
	}
}
