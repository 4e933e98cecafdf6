package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// nopQueue and nopLocal satisfy the interfaces for tests that never use them.
type nopQueue struct{}

func (nopQueue) AppendDeferred(_ offline.Message, _ time.Duration, done func(uint64, error)) {
	done(0, errors.New("nop"))
}
func (nopQueue) Read(ctx context.Context, _ uint64, _ int) ([]offline.Entry, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (nopQueue) LastSeq() uint64                                        { return 0 }
func (nopQueue) AckAsync([]uint64, func(error))                         {}
func (nopQueue) MarkReceivedAsync(_ uint64, done func(error))           { done(nil) }
func (nopQueue) Quarantine(uint64, string) error                        { return nil }
func (nopQueue) Stats() offline.QueueStats                              { return offline.QueueStats{} }
func (nopQueue) Orphans(uint64) ([]uint64, uint64, error)               { return nil, 0, nil }
func (nopQueue) ForgetOrphansAsync(_ []uint64, done func(error))        {}
func (nopLocal) Publish(context.Context, string, *packet.Publish) error { return nil }

type nopLocal struct{}

func TestPidOf(t *testing.T) {
	seen := map[uint16]uint64{}
	for seq := uint64(1); seq <= pidSpace; seq++ {
		id := pidOf(seq)
		if id == 0 || id > pidSpace {
			t.Fatalf("pidOf(%d) = %d, outside 1..%d", seq, id, pidSpace)
		}
		if prev, dup := seen[id]; dup {
			t.Fatalf("pidOf(%d) = pidOf(%d) = %d", seq, prev, id)
		}
		seen[id] = seq
	}
	if pidOf(7) != pidOf(7+pidSpace) {
		t.Fatal("ids must repeat with period pidSpace")
	}
}

func entry(seq uint64, qos byte) offline.Entry {
	return offline.Entry{Seq: seq, Message: offline.Message{Topic: "t", QoS: qos}}
}

// TestWindow_admit_idsNeverCollide: an entry whose id would collide with the
// oldest flight waits until that flight leaves.
func TestWindow_admit_idsNeverCollide(t *testing.T) {
	w := newWindow(4)
	if _, err := w.admit(context.Background(), entry(1, 1)); err != nil {
		t.Fatal(err)
	}
	far := entry(1+pidSpace, 1) // same id as seq 1
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := w.admit(ctx, far); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("admit of a colliding id = %v, want it to wait", err)
	}
	if f := w.remove(pidOf(1), 1); f == nil || f.seq != 1 {
		t.Fatalf("remove = %+v", f)
	}
	f, err := w.admit(context.Background(), far)
	if err != nil || f.pid != pidOf(1) {
		t.Fatalf("admit after removal = %+v, %v", f, err)
	}
}

func TestWindow_room(t *testing.T) {
	w := newWindow(8) // threshold 2
	ctx := context.Background()
	for seq := uint64(1); seq <= 7; seq++ {
		w.admit(ctx, entry(seq, 1))
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if free, _, _, err := w.room(short); err == nil {
		t.Fatalf("room with 1 free slot returned %d; want to wait for a quarter of the window", free)
	}
	w.remove(pidOf(1), 1)
	free, after, live, err := w.room(ctx)
	if err != nil || free != 2 || after != 7 || live != 0 {
		t.Fatalf("room = %d, %d, %v; want 2 free after 7", free, after, err)
	}
	if w.remove(pidOf(2), 2) != nil {
		t.Fatal("a PUBCOMP must not complete a QoS 1 flight")
	}
	f, _ := w.admit(ctx, entry(8, 2))
	if w.remove(f.pid, 2) != nil {
		t.Fatal("a PUBCOMP completed a QoS 2 flight before its PUBREC")
	}
	w.update(f, func(f *flight) { f.received = true })
	if w.remove(f.pid, 2) != f {
		t.Fatal("a PUBCOMP after the PUBREC did not complete the flight")
	}
}

// TestWindow_lanes: with a backlog of at least laneMin entries the window
// reads in two lanes, each with its own cursor; when the backlog reaches
// the boundary the lanes merge past everything the live lane took.
func TestWindow_lanes(t *testing.T) {
	w := newWindow(8)
	ctx := context.Background()
	w.startLanes(laneMin - 1) // a short backlog: one FIFO
	if _, _, live, _ := w.room(ctx); live != 0 {
		t.Fatalf("lanes for a backlog of %d entries", laneMin-1)
	}
	last := uint64(1000)
	w.startLanes(last)
	_, after, live, _ := w.room(ctx)
	if after != 0 || live != last {
		t.Fatalf("room = after %d, live %d; want 0 and the boundary %d", after, live, last)
	}
	w.admit(ctx, entry(last+1, 1)) // a live message
	w.admit(ctx, entry(1, 1))      // the backlog's oldest
	_, after, live, _ = w.room(ctx)
	if after != 1 || live != last+1 {
		t.Fatalf("after one message per lane: after %d, live %d", after, live)
	}
	if !w.inBacklog(last) || w.inBacklog(last+1) {
		t.Fatal("inBacklog does not split at the boundary")
	}
	w.skip(last) // the backlog reaches the boundary: one FIFO after the live lane
	if _, after, live, _ = w.room(ctx); after != last+1 || live != 0 {
		t.Fatalf("after the merge: after %d, live %d; want %d, 0", after, live, last+1)
	}
	got := w.resume(true) // re-sent in the order sent, not by sequence number
	if len(got) != 2 || got[0].seq != last+1 || got[1].seq != 1 {
		t.Fatalf("resume = %+v", got)
	}
}

func TestWindow_resume(t *testing.T) {
	w := newWindow(8)
	ctx := context.Background()
	f1, _ := w.admit(ctx, entry(1, 1))
	f2, _ := w.admit(ctx, entry(2, 2))
	w.admit(ctx, entry(3, 1))
	w.update(f1, func(f *flight) { f.sent = true })
	w.update(f2, func(f *flight) { f.sent, f.received = true, true })

	got := w.resume(true)
	if len(got) != 3 || got[0].seq != 1 || !got[0].sent || !got[1].received || got[2].sent {
		t.Fatalf("resume(session) = %+v", got)
	}
	got = w.resume(false)
	if got[1].received || !got[2].sent {
		t.Fatalf("resume(no session) = %+v: a lost session must publish again, all now sent", got)
	}
}

func TestBackoff(t *testing.T) {
	b := &Bridge{o: Options{Reconnect: Reconnect{MinDelay: 100 * time.Millisecond, MaxDelay: 3 * time.Second}}}
	for attempt := 0; attempt < 100; attempt++ {
		ceil := min(100*time.Millisecond<<min(attempt+1, 20), 3*time.Second)
		seen := map[time.Duration]bool{}
		for i := 0; i < 20; i++ {
			d := b.backoff(attempt)
			if d < 100*time.Millisecond || d > ceil {
				t.Fatalf("backoff(%d) = %v, want within [100ms, %v]", attempt, d, ceil)
			}
			seen[d] = true
		}
		if len(seen) < 2 { // a fleet must not retry in lockstep, not even the first time
			t.Fatalf("backoff(%d) gave %v 20 times: want jitter", attempt, seen)
		}
	}
	huge := &Bridge{o: Options{Reconnect: Reconnect{MinDelay: time.Second, MaxDelay: 1<<63 - 1}}}
	if d := huge.backoff(200); d < time.Second {
		t.Errorf("backoff overflowed: %v", d)
	}
}

// TestLostDelay: the wait after a lost connection is random in
// [0, 2·MinDelay] and MinDelay on average, so that a fleet that lost its
// upstream together does not come back together.
func TestLostDelay(t *testing.T) {
	const minDelay = time.Second
	b := &Bridge{o: Options{Reconnect: Reconnect{MinDelay: minDelay, MaxDelay: time.Minute}}}
	var sum time.Duration
	const n = 2000
	early := 0
	for range n {
		d := b.lostDelay()
		if d < 0 || d > 2*minDelay {
			t.Fatalf("lostDelay() = %v, want within [0, %v]", d, 2*minDelay)
		}
		if d < minDelay/2 {
			early++
		}
		sum += d
	}
	if mean := sum / n; mean < 900*time.Millisecond || mean > 1100*time.Millisecond {
		t.Errorf("mean lostDelay %v over %d draws, want about MinDelay (%v)", mean, n, minDelay)
	}
	if early < n/8 { // a quarter are expected below MinDelay/2
		t.Errorf("%d of %d waits below MinDelay/2: the spread is too narrow", early, n)
	}
	huge := &Bridge{o: Options{Reconnect: Reconnect{MinDelay: 1<<63 - 1, MaxDelay: 1<<63 - 1}}}
	if d := huge.lostDelay(); d < 0 {
		t.Errorf("lostDelay overflowed: %v", d)
	}
	if d := (&Bridge{}).lostDelay(); d != 0 {
		t.Errorf("lostDelay with MinDelay 0 = %v, want 0", d)
	}
}

// TestSequencer_ordersDonePerOrigin: done calls for one origin come in
// registration order although results arrive out of order; other origins
// are not held up.
func TestSequencer_ordersDonePerOrigin(t *testing.T) {
	var s sequencer
	s.init()
	var got []string
	rec := func(name string) func(error) { return func(error) { got = append(got, name) } }
	t1 := s.begin("a", rec("a1"))
	s.now("a", rec("a2"), nil)
	t3 := s.begin("a", rec("a3"))
	s.now("a", rec("a4"), nil)
	s.now("b", rec("b1"), nil) // nothing pending for b: at once
	s.finish(t3, nil)
	if fmt.Sprint(got) != "[b1]" {
		t.Fatalf("before a1 finished: %v", got)
	}
	s.finish(t1, nil)
	if fmt.Sprint(got) != "[b1 a1 a2 a3 a4]" {
		t.Fatalf("got %v", got)
	}
	if len(s.origins) != 0 {
		t.Errorf("origins not cleaned up: %v", s.origins)
	}
}

func TestSequencer_concurrent(t *testing.T) {
	var s sequencer
	s.init()
	const n = 2000
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		done := func(error) { mu.Lock(); got = append(got, i); mu.Unlock() }
		if i%3 == 0 {
			s.now("o", done, nil)
			continue
		}
		tk := s.begin("o", done)
		wg.Add(1)
		go func() { defer wg.Done(); s.finish(tk, nil) }()
	}
	wg.Wait()
	if len(got) != n {
		t.Fatalf("%d done calls, want %d", len(got), n)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("done %d called at position %d", v, i)
		}
	}
}

func TestLimiter(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	if err := newLimiter(0).wait(ctx); err != nil {
		t.Fatalf("unlimited: %v", err)
	}
	l := newLimiter(1) // one per second: the second call must wait
	if err := l.wait(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := l.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait after cancel = %v", err)
	}
}
