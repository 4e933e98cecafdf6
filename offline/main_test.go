package offline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// childEnv selects a child-process role (see crash_test.go, million_test.go):
// the test binary re-executes itself with it set.
const childEnv = "OFFLINE_TEST_CHILD"

func TestMain(m *testing.M) {
	switch role := os.Getenv(childEnv); role {
	case "":
		goleak.VerifyTestMain(m)
	case "crash":
		crashChild()
	case "open":
		openChild()
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", childEnv, role)
		os.Exit(2)
	}
}

// quietLogger discards logs; tests that check logging make their own.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// openTest opens a DB at path that the test closes at cleanup.
func openTest(t testing.TB, path string, opts Options) *DB {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger
	}
	d, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// openQueue opens the queue name of d or fails the test.
func openQueue(t testing.TB, d *DB, name string, o QueueOptions) *Queue {
	t.Helper()
	q, err := d.Queue(name, o)
	if err != nil {
		t.Fatalf("Queue(%q): %v", name, err)
	}
	return q
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readN reads until n entries after after arrived (or fails the test).
func readN(t testing.TB, q *Queue, after uint64, n int) []Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var all []Entry
	for len(all) < n {
		es, err := q.Read(ctx, after, n-len(all))
		if err != nil {
			t.Fatalf("Read after %d (have %d of %d): %v", after, len(all), n, err)
		}
		all = append(all, es...)
		after = es[len(es)-1].Seq
	}
	return all
}

// readAll returns every entry currently in q without blocking.
func readAll(t testing.TB, q *Queue) []Entry {
	t.Helper()
	n := int(q.Stats().Messages)
	if n == 0 {
		return nil
	}
	return readN(t, q, 0, n)
}

// appendN appends n messages topic "t/<i>" payload "m<i>" and returns their seqs.
func appendN(t testing.TB, q *Queue, n int, ttl time.Duration) []uint64 {
	t.Helper()
	seqs := make([]uint64, n)
	for i := range n {
		seq, err := q.Append(context.Background(), Message{
			Topic: fmt.Sprintf("t/%d", i), Payload: []byte(fmt.Sprintf("m%d", i)), QoS: 1, TTL: ttl})
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		seqs[i] = seq
	}
	return seqs
}

// fill appends n messages topic "t/<i>" payload "m<i>" with AppendAsync
// (so that they are group-committed) and waits for all of them.
func fill(t testing.TB, q *Queue, n int) {
	t.Helper()
	errs := make(chan error, n)
	for i := range n {
		q.AppendAsync(Message{Topic: fmt.Sprintf("t/%d", i), Payload: []byte(fmt.Sprintf("m%d", i)), QoS: 1},
			func(_ uint64, err error) { errs <- err })
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// fakeClock is a controllable clock for TTL tests.
type fakeClock struct {
	mu   sync.Mutex
	wall time.Time
	boot time.Duration
	id   string
}

func newFakeClock() *fakeClock {
	return &fakeClock{wall: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), boot: 100 * time.Second, id: "boot-a"}
}

func (c *fakeClock) clock() clock {
	return clock{
		now: func() time.Time {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.wall
		},
		boottime: func() time.Duration {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.boot
		},
		bootID: func() (string, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.id, nil
		},
	}
}

// advance moves both clocks forward by d.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall = c.wall.Add(d)
	c.boot += d
}

// stepWall steps the wall clock only (NTP, settimeofday).
func (c *fakeClock) stepWall(to time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall = to
}

// reboot simulates a new boot: new id, boottime restarts at boot.
func (c *fakeClock) reboot(id string, boot time.Duration, wall time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.id, c.boot, c.wall = id, boot, wall
}
