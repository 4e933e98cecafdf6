package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openQueue opens a real offline DB in dir and its "upstream" queue; both
// are closed when the test ends (after the bridge stopped: cleanups run in
// reverse order).
func openQueue(t testing.TB, dir string, qo offline.QueueOptions) (*offline.DB, *offline.Queue) {
	t.Helper()
	db, err := offline.Open(filepath.Join(dir, "gateway.db"), offline.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("offline.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	q, err := db.Queue("upstream", qo)
	if err != nil {
		t.Fatalf("db.Queue: %v", err)
	}
	return db, q
}

// fakeLocal is the local broker's inline client: it records what the bridge
// publishes locally. While gate is set, Publish waits for it to be closed
// (or for ctx to end).
type fakeLocal struct {
	mu    sync.Mutex
	msgs  []localMsg
	gate  chan struct{}
	calls int             // Publish calls, including blocked and failed ones
	fail  map[string]bool // topics whose Publish fails
}

type localMsg struct {
	origin string
	p      packet.Publish
}

func (l *fakeLocal) Publish(ctx context.Context, origin string, p *packet.Publish) error {
	l.mu.Lock()
	gate, fail := l.gate, l.fail[p.Topic]
	l.calls++
	l.mu.Unlock()
	if fail {
		return errors.New("local: refused")
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, localMsg{origin, *p})
	return nil
}

func (l *fakeLocal) setGate(g chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gate = g
}

func (l *fakeLocal) callCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

func (l *fakeLocal) got() []localMsg {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]localMsg(nil), l.msgs...)
}

var _ bridge.Local = (*fakeLocal)(nil)

// testLogger logs warnings and errors through t.Log, so a failing test
// shows what the bridge complained about.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// options returns fast-failing test options for the given addresses:
// keepalive 1 s, short backoff, sensors/# out and cmd/# in under "gw/".
func options(t testing.TB, q bridge.Queue, addrs ...string) bridge.Options {
	return bridge.Options{
		Addresses:       addrs,
		ClientID:        clientID(t),
		KeepAlive:       time.Second,
		ConnectTimeout:  time.Second,
		ShutdownTimeout: 2 * time.Second,
		Reconnect:       bridge.Reconnect{MinDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond},
		Rules: []bridge.Rule{
			{Pattern: "sensors/#", Direction: bridge.Out, QoS: 2, RemotePrefix: "gw/"},
			{Pattern: "cmd/#", Direction: bridge.In, QoS: 2, RemotePrefix: "gw/"},
		},
		Queue:   q,
		Local:   &fakeLocal{},
		Version: "test-1",
		Logger:  testLogger(t),
	}
}

// clientID derives a client id from the test name, unique per test.
func clientID(t testing.TB) string {
	r := strings.NewReplacer("/", "-", " ", "-")
	return "edgegw-" + r.Replace(t.Name())
}

// runner is a Bridge running in the background until stop or the test's end.
type runner struct {
	b      *bridge.Bridge
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func start(t testing.TB, o bridge.Options) *runner {
	t.Helper()
	return startBridge(t, newBridge(t, o))
}

func newBridge(t testing.TB, o bridge.Options) *bridge.Bridge {
	t.Helper()
	b, err := bridge.New(o)
	if err != nil {
		t.Fatalf("bridge.New: %v", err)
	}
	return b
}

func startBridge(t testing.TB, b *bridge.Bridge) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{b: b, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- b.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and waits for it to return nil.
func (r *runner) stop(t testing.TB) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
}

func (r *runner) awaitConnection(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mqtttest.DefaultWait)
	defer cancel()
	if err := r.b.AwaitConnection(ctx); err != nil {
		t.Fatalf("AwaitConnection: %v (stats %+v)", err, r.b.Stats())
	}
}

// publish hands one message to the bridge as the local broker would and
// waits for done.
func publish(t testing.TB, b *bridge.Bridge, origin, topic, payload string, qos byte) error {
	t.Helper()
	errc := make(chan error, 1)
	b.OnPublish(origin, &packet.Publish{QoS: qos, Topic: topic, Payload: []byte(payload)}, func(err error) { errc <- err })
	select {
	case err := <-errc:
		return err
	case <-time.After(mqtttest.DefaultWait):
		t.Fatalf("done not called for %s", topic)
		return nil
	}
}

// publishSeq publishes payloads "from".."to-1" on topic at QoS qos, all
// in flight at once as from a busy client, and waits until every one is
// acknowledged (durable) in order.
func publishSeq(t testing.TB, b *bridge.Bridge, topic string, from, to int, qos byte) {
	t.Helper()
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := from; i < to; i++ {
		wg.Add(1)
		p := &packet.Publish{QoS: qos, Topic: topic, Payload: []byte(strconv.Itoa(i))}
		b.OnPublish("client-1", p, func(err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("message %d not stored: %v", i, err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		})
	}
	wg.Wait()
	for k, i := range order {
		if i != from+k {
			t.Fatalf("done calls out of order: position %d is message %d", k, i)
		}
	}
}

// assertSequence checks that the subscriber got every payload 0..n-1 on
// topic, at least once, and that their first copies arrived in order.
// Duplicates (QoS 1 re-sends) are allowed; it returns how many there were.
func assertSequence(t testing.TB, msgs []mqtttest.Message, topic string, n int) (dups int) {
	t.Helper()
	seen := make(map[int]bool, n)
	next := 0
	for _, m := range msgs {
		if m.Topic != topic {
			continue
		}
		i, err := strconv.Atoi(string(m.Payload))
		if err != nil {
			t.Fatalf("payload %q on %s", m.Payload, topic)
		}
		if seen[i] {
			dups++
			continue
		}
		if i != next {
			t.Fatalf("on %s: first copy of %d arrived when %d was expected (missing or reordered); missing overall: %v",
				topic, i, next, missing(msgs, topic, n))
		}
		seen[i] = true
		next++
	}
	if next != n {
		t.Fatalf("on %s: got %d distinct messages in order, want %d; missing: %v", topic, next, n, missing(msgs, topic, n))
	}
	return dups
}

// waitSequence waits until the subscriber has every payload 0..n-1 on
// topic, then checks it like assertSequence.
func waitSequence(t testing.TB, sub *mqtttest.Subscriber, topic string, n int) (dups int) {
	t.Helper()
	mqtttest.WaitFor(t, func() bool { return sub.Count(topic) >= n },
		"at least %d messages on %s (missing %v)", n, topic, lazyMissing{sub, topic, n})
	mqtttest.WaitFor(t, func() bool { return len(missing(sub.Messages(), topic, n)) == 0 },
		"%d messages on %s (missing %v)", n, topic, lazyMissing{sub, topic, n})
	return assertSequence(t, sub.Messages(), topic, n)
}

type lazyMissing struct {
	sub   *mqtttest.Subscriber
	topic string
	n     int
}

func (l lazyMissing) String() string { return fmt.Sprint(missing(l.sub.Messages(), l.topic, l.n)) }

// countOn returns how many of msgs are on topic.
func countOn(msgs []mqtttest.Message, topic string) int {
	n := 0
	for _, m := range msgs {
		if m.Topic == topic {
			n++
		}
	}
	return n
}

// waitDrained waits until the queue is empty (every entry acknowledged).
func waitDrained(t testing.TB, q *offline.Queue) {
	t.Helper()
	mqtttest.WaitFor(t, func() bool { return q.Stats().Messages == 0 }, "queue drained (depth %d)", q.Stats().Messages)
}

func describe(s bridge.Stats) string { return fmt.Sprintf("%+v", s) }

// missing lists the payloads 0..n-1 never received on topic.
func missing(msgs []mqtttest.Message, topic string, n int) []int {
	got := map[string]bool{}
	for _, m := range msgs {
		if m.Topic == topic {
			got[string(m.Payload)] = true
		}
	}
	var out []int
	for i := 0; i < n; i++ {
		if !got[strconv.Itoa(i)] {
			out = append(out, i)
		}
	}
	return out
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
