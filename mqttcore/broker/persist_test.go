package broker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// memStore is an in-memory Store.
type memStore struct {
	mu   sync.Mutex
	m    map[string][]byte
	fail error // returned by Put while set
	puts int
}

func newMemStore() *memStore { return &memStore{m: make(map[string][]byte)} }

// value returns the value stored under key, nil if none.
func (s *memStore) value(key string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key]
}

func (s *memStore) Put(key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	if s.fail != nil {
		return s.fail
	}
	s.m[key] = slices.Clone(value)
	return nil
}

func (s *memStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *memStore) ForEach(fn func(key string, value []byte) error) error {
	s.mu.Lock()
	m := maps.Clone(s.m)
	s.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := fn(k, m[k]); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.m))
}

func (s *memStore) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// runUntilStopped runs b and returns its address and a stop function that
// cancels Run and waits for it.
func runUntilStopped(t *testing.T, b *Broker) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var stopped bool
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	waitFor(t, "the listener", func() bool { return len(b.Addrs()) == 1 })
	return b.Addrs()[0].String(), stop
}

// restartScenario fills a broker's stores, restarts it on the same stores
// and checks that retained messages, subscriptions, queued and inflight
// messages survived.
func restartScenario(t *testing.T, retained, sessions, messages Store, reopen func() (Store, Store, Store)) {
	opts := testOptions(t)
	opts.Listeners = []Listener{{Address: "127.0.0.1:0"}}
	opts.SysInterval = 50 * time.Millisecond // $SYS must not be persisted
	opts.Retained, opts.Sessions, opts.Messages = retained, sessions, messages
	b1, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := runUntilStopped(t, b1)
	subID, rawID := uniqueID(t, "sub"), uniqueID(t, "raw")

	sub := paho(t, addr, subID, false)
	subscribe(t, sub, "p/#", 1)
	subscribe(t, sub, "q/+", 2)
	sub.Disconnect(0)
	raw, _ := connectRaw(t, addr, rawID, false)
	raw.subscribe(1, "r/#", 1)

	pub := paho(t, addr, uniqueID(t, "pub"), true)
	publish(t, pub, "p/ret", 1, true, "kept")
	publish(t, pub, "gone/ret", 0, true, "to be cleared")
	publish(t, pub, "gone/ret", 0, true, "")
	for _, m := range []string{"one", "two", "three"} {
		publish(t, pub, "p/"+m, 1, false, m)
	}
	publish(t, pub, "r/x", 1, false, "inflight")
	inflight := raw.publish() // not acknowledged
	_ = raw.conn.Close()
	waitFor(t, "clients to leave", func() bool { return b1.Stats().ClientsConnected == 1 })
	stop()

	if reopen != nil {
		opts.Retained, opts.Sessions, opts.Messages = reopen()
	}
	b2, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ = runUntilStopped(t, b2)

	in := newInbox()
	_, tok := pahoConnect(t, addr, subID, false, func(o *mqtt.ClientOptions) { o.SetDefaultPublishHandler(in.handle) })
	done(t, tok, "reconnect")
	if !tok.SessionPresent() {
		t.Error("session not present after restart")
	}
	for _, want := range [][2]string{{"p/ret", "kept"}, {"p/one", "one"}, {"p/two", "two"}, {"p/three", "three"}} {
		in.expect(t, want[0], want[1])
	}
	publish(t, paho(t, addr, uniqueID(t, "pub2"), true), "q/new", 2, false, "after restart")
	in.expect(t, "q/new", "after restart")

	raw, _ = connectRaw(t, addr, rawID, false)
	again := raw.publish()
	if !again.Dup || again.PacketID != inflight.PacketID || string(again.Payload) != "inflight" {
		t.Errorf("re-sent after restart: %+v, want %q with DUP and id %d", again, inflight.Payload, inflight.PacketID)
	}
	got := payloads(retainedOf(t, addr, "#", 1))
	if len(got) != 1 || got["p/ret"] != "kept" {
		t.Errorf("retained after restart = %v, want only p/ret=kept", got)
	}
}

func TestBroker_persist_restart(t *testing.T) {
	for _, held := range []bool{false, true} {
		t.Run(fmt.Sprint("held=", held), func(t *testing.T) {
			var messages Store
			if held {
				messages = newMemStore()
			}
			retained, sessions := newMemStore(), newMemStore()
			restartScenario(t, retained, sessions, messages, nil)
			checkRetainedStore(t, retained)
		})
	}
}

func checkRetainedStore(t *testing.T, retained *memStore) {
	if keys := retained.keys(); !slices.Contains(keys, "p/ret") {
		t.Errorf("stored retained topics %q, want p/ret among them", keys)
	}
	for _, k := range retained.keys() {
		if strings.HasPrefix(k, "$") {
			t.Errorf("$SYS topic %q persisted", k)
		}
	}
}

// The same with offline's KV on a bbolt file, closed and reopened.
func TestBroker_persist_offlineDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway.db")
	open := func() *offline.DB {
		db, err := offline.Open(path, offline.Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	t.Cleanup(func() { _ = db.Close() }) // after the brokers' shutdown, which flushes into db
	restartScenario(t, db.KV("retained"), db.KV("sessions"), db.KV("held"), func() (Store, Store, Store) {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = open()
		return db.KV("retained"), db.KV("sessions"), db.KV("held")
	})
}

var _ GroupStore = (*offline.KV)(nil)

// TestBroker_persist_groupCommit: a Flush of many retained messages into
// offline's KV shares commits (it took one fsync'd commit per record: 100,000
// retained messages took 100 s to persist, longer than systemd waits at
// stop), and all of them are there after a reopen.
func TestBroker_persist_groupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway.db")
	db, err := offline.Open(path, offline.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opts := testOptions(t)
	opts.Retained = db.KV("retained")
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20_000
	for i := range n {
		p := &packet.Publish{Topic: fmt.Sprintf("r/%d", i), Payload: []byte("v"), QoS: 0, Retain: true}
		if err := b.Publish(context.Background(), "$test", p); err != nil {
			t.Fatal(err)
		}
	}
	before := db.Stats().Commits
	start := time.Now()
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	commits := db.Stats().Commits - before
	t.Logf("%d retained messages flushed in %v, %d commits", n, time.Since(start), commits)
	if commits > n/100 {
		t.Errorf("%d commits for %d retained messages flushed together", commits, n)
	}
	count := 0
	if err := db.KV("retained").ForEach(func(string, []byte) error { count++; return nil }); err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Errorf("%d retained messages stored, want %d", count, n)
	}
}

// A clean session replacing a persistent one removes it from the store.
func TestBroker_persist_cleanSessionForgets(t *testing.T) {
	sessions := newMemStore()
	opts := testOptions(t)
	opts.Sessions = sessions
	b, addr := startBroker(t, opts)
	id := uniqueID(t, "c")
	c := paho(t, addr, id, false)
	subscribe(t, c, "x", 1)
	c.Disconnect(0)
	waitFor(t, "the client to leave", func() bool { return b.Stats().ClientsConnected == 0 })
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := sessions.keys(); !slices.Equal(got, []string{id}) {
		t.Fatalf("stored sessions %q, want [%s]", got, id)
	}
	paho(t, addr, id, true)
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := sessions.keys(); len(got) != 0 {
		t.Errorf("stored sessions %q after a clean session, want none", got)
	}
}

// Records that do not decode are skipped; the rest is restored.
func TestNew_badRecords(t *testing.T) {
	retained, sessions := newMemStore(), newMemStore()
	_ = retained.Put("ok/topic", []byte{retainedRecordV1, 1, 'v'})
	_ = retained.Put("bad/+", []byte{retainedRecordV1, 1, 'v'})
	_ = retained.Put("bad/version", []byte{9, 1, 'v'})
	_ = retained.Put("bad/qos", []byte{retainedRecordV1, 3, 'v'})
	_ = sessions.Put("truncated", []byte{sessionRecordV1, 5, 1})
	_ = sessions.Put("bad-filter", []byte{sessionRecordV1, 1, 3, 'a', '#', 'b', 1, 1, 0, 0, 0, 0, 0})
	_ = sessions.Put("bad-state", []byte{sessionRecordV1, 0, 7})
	_ = sessions.Put("empty", nil)
	opts := testOptions(t)
	opts.Retained, opts.Sessions = retained, sessions
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := b.retained.Len(); n != 1 {
		t.Errorf("restored %d retained messages, want 1", n)
	}
	if n := len(b.sessions); n != 0 {
		t.Errorf("restored %d sessions, want 0", n)
	}
}

// A store error keeps the record pending for a few Flushes, then gives up.
func TestBroker_Flush_storeErrors(t *testing.T) {
	retained := newMemStore()
	opts := testOptions(t)
	opts.Retained = retained
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	retained.setFail(errors.New("disk full"))
	if err := b.Publish(t.Context(), "t", &packet.Publish{Topic: "a", Retain: true, Payload: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err == nil {
		t.Fatal("Flush hid the store error")
	}
	retained.setFail(nil)
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := retained.keys(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("keys %q after the disk recovered, want [a]", got)
	}

	retained.setFail(errors.New("refused for good"))
	_ = b.Publish(t.Context(), "t", &packet.Publish{Topic: "b", Retain: true, Payload: []byte("2")})
	puts := retained.puts
	for range maxWriteAttempts + 2 {
		_ = b.Flush()
	}
	if n := retained.puts - puts; n != maxWriteAttempts {
		t.Errorf("tried %d times, want %d", n, maxWriteAttempts)
	}
}

// TestBroker_persist_retainedDurableAtAck: a retained message set at QoS 1
// or 2 is on disk when its publisher is acknowledged (it waited for the
// 10 s Flush: a power cut lost it); one set at QoS 0 waits for the next
// Flush. Concurrent publishers on one topic leave the store with the
// message the broker holds.
func TestBroker_persist_retainedDurableAtAck(t *testing.T) {
	retained := newMemStore()
	opts := testOptions(t)
	opts.Listeners = []Listener{{Address: "127.0.0.1:0"}}
	opts.Retained = retained
	opts.PersistInterval = time.Hour
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := runUntilStopped(t, b)
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	publish(t, pub, "r/one", 1, true, "v1")
	publish(t, pub, "r/two", 2, true, "v2")
	publish(t, pub, "r/zero", 0, true, "v0")
	publish(t, pub, "r/gone", 1, true, "x")
	publish(t, pub, "r/gone", 1, true, "")
	want := []string{"r/one", "r/two"}
	if got := retained.keys(); !slices.Equal(got, want) {
		t.Errorf("stored at the acknowledgement: %q, want %q", got, want)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		c := paho(t, addr, uniqueID(t, fmt.Sprint("race", i)), true)
		wg.Go(func() {
			for j := range 50 {
				c.Publish("r/race", 1, true, fmt.Sprint(i, "-", j)).Wait()
			}
		})
	}
	wg.Wait()
	held := payloads(retainedOf(t, addr, "r/race", 1))["r/race"]
	retained.mu.Lock()
	v := retained.m["r/race"]
	retained.mu.Unlock()
	stored := ""
	if len(v) > 2 {
		stored = string(v[2:]) // after the version and QoS bytes
	}
	if stored != held {
		t.Errorf("store has r/race=%q, the broker %q", stored, held)
	}
}
