package offline

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestQueue_AppendAsync_concurrent has 16 producers append asynchronously
// while a reader reads and acknowledges, under -race. Every message must be
// delivered exactly once, in order per producer; each producer's done
// callbacks come in its append order with increasing seqs; and the writer
// must have grouped the appends (far fewer commits than messages).
func TestQueue_AppendAsync_concurrent(t *testing.T) {
	const producers, perProducer = 16, 1000
	const total = producers * perProducer
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	q := openQueue(t, d, "up", QueueOptions{})

	var wg sync.WaitGroup
	doneSeqs := make([][]uint64, producers) // per producer, in callback order
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mu sync.Mutex
			var pending sync.WaitGroup
			for n := range perProducer {
				pending.Add(1)
				q.AppendAsync(Message{Topic: fmt.Sprintf("p/%d", p), Payload: fmt.Appendf(nil, "%d", n), QoS: 1},
					func(seq uint64, err error) {
						defer pending.Done()
						if err != nil {
							t.Errorf("producer %d message %d: %v", p, n, err)
							return
						}
						mu.Lock()
						doneSeqs[p] = append(doneSeqs[p], seq)
						mu.Unlock()
					})
			}
			pending.Wait()
		}()
	}

	delivered := make(map[uint64]bool, total)
	lastN := make(map[string]int)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var after uint64
	for len(delivered) < total {
		es, err := q.Read(ctx, after, 100)
		if err != nil {
			t.Fatalf("Read after %d with %d delivered: %v", after, len(delivered), err)
		}
		seqs := make([]uint64, 0, len(es))
		for _, e := range es {
			if delivered[e.Seq] {
				t.Fatalf("seq %d delivered twice", e.Seq)
			}
			delivered[e.Seq] = true
			var n int
			fmt.Sscanf(string(e.Payload), "%d", &n)
			if prev, ok := lastN[e.Topic]; ok && n != prev+1 {
				t.Fatalf("%s: message %d after %d", e.Topic, n, prev)
			}
			lastN[e.Topic] = n
			seqs = append(seqs, e.Seq)
		}
		if err := q.Ack(seqs...); err != nil {
			t.Fatal(err)
		}
		after = seqs[len(seqs)-1]
	}
	wg.Wait()

	for p, seqs := range doneSeqs {
		if len(seqs) != perProducer {
			t.Fatalf("producer %d: %d callbacks, want %d", p, len(seqs), perProducer)
		}
		for i := 1; i < len(seqs); i++ {
			if seqs[i] <= seqs[i-1] {
				t.Fatalf("producer %d: callback %d has seq %d after %d", p, i, seqs[i], seqs[i-1])
			}
		}
	}
	qs, ds := q.Stats(), d.Stats()
	if qs.Messages != 0 || qs.Appended != total || qs.Acked != total {
		t.Errorf("QueueStats = %+v, want empty with %d appended and acked", qs, total)
	}
	t.Logf("%d appends and their acks in %d commits (%.1f ops per commit)",
		total, ds.Commits, float64(ds.Ops)/float64(ds.Commits))
	if ds.Commits*10 > total {
		t.Errorf("%d commits for %d appends (plus acks): the writer did not group them", ds.Commits, total)
	}
}

// TestQueue_Append_concurrentSync has 8 goroutines call the blocking Append:
// the seqs they get are unique and every message is stored once.
func TestQueue_Append_concurrentSync(t *testing.T) {
	const producers, perProducer = 8, 100
	d := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	var mu sync.Mutex
	seen := map[uint64]string{}
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range perProducer {
				payload := fmt.Sprintf("%d-%d", p, n)
				seq, err := q.Append(context.Background(), Message{Topic: "t", Payload: []byte(payload)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if prev, dup := seen[seq]; dup {
					t.Errorf("seq %d returned for %s and %s", seq, prev, payload)
				}
				seen[seq] = payload
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	es := readAll(t, q)
	if len(es) != producers*perProducer {
		t.Fatalf("%d entries stored, want %d", len(es), producers*perProducer)
	}
	for _, e := range es {
		if seen[e.Seq] != string(e.Payload) {
			t.Fatalf("seq %d holds %q, Append returned it for %q", e.Seq, e.Payload, seen[e.Seq])
		}
	}
	st := d.Stats()
	t.Logf("%d blocking appends from %d goroutines in %d commits", len(es), producers, st.Commits)
}
