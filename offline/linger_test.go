package offline

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestQueue_Ack_lingersForNextAppend: a small Ack waits (up to AckLinger)
// for the next Append and the two share one commit; an Ack of many entries
// and an Ack with lingering disabled commit at once; Close does not wait out
// a lingering Ack.
func TestQueue_Ack_lingersForNextAppend(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{AckLinger: time.Hour})
	q := openQueue(t, d, "up", QueueOptions{})
	first, err := q.Append(ctx, Message{Topic: "t", Payload: []byte("1"), QoS: 1})
	if err != nil {
		t.Fatal(err)
	}
	before := d.Stats().Commits

	acked := make(chan error, 1)
	go func() { acked <- q.Ack(first) }()
	waitPending(t, d, 1) // the Ack is submitted and lingering
	select {
	case err := <-acked:
		t.Fatalf("small Ack committed alone (err %v) instead of lingering", err)
	default:
	}
	if _, err := q.Append(ctx, Message{Topic: "t", Payload: []byte("2"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if err := <-acked; err != nil {
		t.Fatal(err)
	}
	if got := d.Stats().Commits - before; got != 1 {
		t.Errorf("Ack + Append took %d commits, want 1 shared", got)
	}
	if st := q.Stats(); st.Messages != 1 || st.Acked != 1 {
		t.Errorf("after the shared commit: %+v", st)
	}

	// A large Ack does not wait for anything.
	var seqs []uint64
	for range lingerMaxSeqs {
		seq, err := q.Append(ctx, Message{Topic: "t", Payload: []byte("x"), QoS: 1})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	if err := q.Ack(seqs...); err != nil { // would block for an hour if it lingered
		t.Fatal(err)
	}

	// Close commits a lingering Ack instead of waiting it out.
	var wg sync.WaitGroup
	wg.Add(1)
	rest, _ := q.Read(ctx, 0, 1)
	go func() {
		defer wg.Done()
		if err := q.Ack(rest[0].Seq); err != nil {
			t.Errorf("Ack at Close: %v", err)
		}
	}()
	waitPending(t, d, 1)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

// TestDB_lingerLocked: a lone small ack lingers by default, not when
// AckLinger is negative, not beside a non-lazy op, not once the small acks
// add up to lingerMaxSeqs entries, and not after Close.
func TestDB_lingerLocked(t *testing.T) {
	lazy := func(weight int) *op { return &op{lazy: true, weight: weight, since: time.Now()} }
	tests := []struct {
		name    string
		linger  time.Duration // Options.AckLinger before defaults
		pending []*op
		closed  bool
		wait    bool
	}{
		{"default, one small ack", 0, []*op{lazy(1)}, false, true},
		{"disabled", -1, []*op{lazy(1)}, false, false},
		{"beside an append", 0, []*op{lazy(1), {}}, false, false},
		{"small acks adding up", 0, []*op{lazy(lingerMaxSeqs - 1), lazy(1)}, false, false},
		{"closed", 0, []*op{lazy(1)}, true, false},
		{"nothing pending", 0, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &DB{opts: Options{AckLinger: tt.linger}.withDefaults(), pending: tt.pending, closed: tt.closed}
			if got := d.lingerLocked() > 0; got != tt.wait {
				t.Errorf("lingerLocked() > 0 = %v, want %v", got, tt.wait)
			}
		})
	}
}

// waitPending waits until n ops are pending for the writer.
func waitPending(t *testing.T, d *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d.mu.Lock()
		got := len(d.pending)
		d.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d ops pending, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestQueue_AckAsync_smallAcksAddUp: small asynchronous acks linger only
// until together they remove lingerMaxSeqs entries, so a stream of acks
// (a drain) is never held back by the linger.
func TestQueue_AckAsync_smallAcksAddUp(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{AckLinger: time.Hour})
	q := openQueue(t, d, "up", QueueOptions{})
	var seqs []uint64
	for range lingerMaxSeqs {
		seq, err := q.Append(ctx, Message{Topic: "t", Payload: []byte("x"), QoS: 1})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	errs := make(chan error, len(seqs))
	for _, seq := range seqs { // one entry per ack, as a slow window acks
		q.AckAsync([]uint64{seq}, func(err error) { errs <- err })
	}
	for range seqs { // would wait an hour if the acks lingered
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if st := q.Stats(); st.Messages != 0 || st.Acked != uint64(len(seqs)) {
		t.Errorf("after the acks: %+v", st)
	}
}
