package broker

import (
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// heldOptions are a broker's options with session and message stores and
// no periodic Flush: what is stored is only what the broker wrote before
// acknowledging.
func heldOptions(t *testing.T, sessions, messages Store) Options {
	opts := testOptions(t)
	opts.Listeners = []Listener{{Address: "127.0.0.1:0"}}
	opts.Sessions, opts.Messages = sessions, messages
	opts.PersistInterval = time.Hour
	return opts
}

// runNew runs a new broker with opts until the test ends and returns
// it with its address.
func runNew(t *testing.T, opts Options) (*Broker, string) {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := runUntilStopped(t, b)
	return b, addr
}

// crashRestart starts a second broker on the stores of a first one that is
// still running and never flushed: what a kill -9 leaves.
func crashRestart(t *testing.T, opts Options) string {
	t.Helper()
	_, addr := runNew(t, opts)
	return addr
}

// TestBroker_held_crash: messages a publisher got PUBACK/PUBCOMP for while
// a persistent subscriber was away are all there after a crash (no Flush:
// they used to wait up to 10 s for one), in order, at their QoS; a
// subscription made just before is there too. Once the subscriber has them,
// the store is empty again.
func TestBroker_held_crash(t *testing.T) {
	sessions, messages := newMemStore(), newMemStore()
	opts := heldOptions(t, sessions, messages)
	b1, addr := runNew(t, opts)
	subID := uniqueID(t, "sub")
	sub := paho(t, addr, subID, false)
	subscribe(t, sub, "h/#", 1)
	subscribe(t, sub, "h2/#", 2)
	sub.Disconnect(0)
	waitFor(t, "the subscriber to leave", func() bool { return b1.Stats().ClientsConnected == 0 })

	pub := paho(t, addr, uniqueID(t, "pub"), true)
	const n = 40
	for i := range n {
		publish(t, pub, fmt.Sprintf("h/%d", i), 1, false, fmt.Sprint(i))
		publish(t, pub, fmt.Sprintf("h2/%d", i), 2, false, fmt.Sprint(i))
	}

	addr2 := crashRestart(t, opts)
	in := newInbox()
	c, tok := pahoConnect(t, addr2, subID, false, func(o *mqtt.ClientOptions) { o.SetDefaultPublishHandler(in.handle) })
	done(t, tok, "reconnect")
	if !tok.SessionPresent() {
		t.Fatal("session not present after the crash")
	}
	for i := range n {
		for _, pre := range []string{"h", "h2"} {
			m := in.next(t)
			want := fmt.Sprintf("%s/%d", pre, i)
			if m.Topic() != want || string(m.Payload()) != fmt.Sprint(i) {
				t.Fatalf("message %d: got %s %q, want %s", 2*i, m.Topic(), m.Payload(), want)
			}
			if wantQoS := byte(len(pre)); m.Qos() != wantQoS {
				t.Errorf("%s: QoS %d, want %d", want, m.Qos(), wantQoS)
			}
		}
	}
	waitFor(t, "acknowledged messages to leave the store", func() bool { return len(heldRecords(messages)) == 0 })
	c.Disconnect(0)
}

// TestBroker_held_noWriteWhenAcknowledged: a connected persistent
// subscriber that acknowledges in time costs no write; its publisher is
// acknowledged with the subscriber's acknowledgement, not after the delay.
func TestBroker_held_noWriteWhenAcknowledged(t *testing.T) {
	sessions, messages := newMemStore(), newMemStore()
	opts := heldOptions(t, sessions, messages)
	opts.CommitDelay = 10 * time.Second
	_, addr := startBroker(t, opts)
	sub := paho(t, addr, uniqueID(t, "sub"), false)
	in := subscribe(t, sub, "h/#", 1)
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	messages.mu.Lock()
	putsBefore := messages.puts // the id reservation at start
	messages.mu.Unlock()
	start := time.Now()
	for i := range 20 {
		publish(t, pub, "h/x", 1, false, fmt.Sprint(i))
		in.expect(t, "h/x", fmt.Sprint(i))
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("20 publishes took %v: PUBACK waited for the commit delay", el)
	}
	messages.mu.Lock()
	puts := messages.puts - putsBefore
	messages.mu.Unlock()
	if puts != 0 {
		t.Errorf("%d message records written for a subscriber that acknowledged them all", puts)
	}
}

// TestBroker_held_slowSubscriber: a connected persistent subscriber that
// does not acknowledge within the delay gets its messages written, and the
// publisher is acknowledged then.
func TestBroker_held_slowSubscriber(t *testing.T) {
	sessions, messages := newMemStore(), newMemStore()
	opts := heldOptions(t, sessions, messages)
	opts.CommitDelay = 50 * time.Millisecond
	_, addr := runNew(t, opts)
	subID := uniqueID(t, "raw")
	raw, _ := connectRaw(t, addr, subID, false)
	raw.subscribe(1, "h/#", 1)
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	publish(t, pub, "h/slow", 1, false, "unacknowledged")
	if p := raw.publish(); string(p.Payload) != "unacknowledged" {
		t.Fatalf("got %q", p.Payload)
	}
	if len(heldRecords(messages)) != 2 { // the message and its reference
		t.Fatalf("store after PUBACK: %q, want the message and one reference", heldRecords(messages))
	}
	addr2 := crashRestart(t, opts)
	raw2, _ := connectRaw(t, addr2, subID, false)
	if p := raw2.publish(); string(p.Payload) != "unacknowledged" || !p.Dup && p.PacketID == 0 {
		t.Fatalf("after the crash: %+v", p)
	}
}

// TestBroker_held_sharedAndEnded: a message for many persistent sessions
// is stored once, with a reference each; a session that ends (a clean
// session takes its id) lets go of its references, and the message goes
// with the last one.
func TestBroker_held_sharedAndEnded(t *testing.T) {
	sessions, messages := newMemStore(), newMemStore()
	_, addr := startBroker(t, heldOptions(t, sessions, messages))
	var ids []string
	for i := range 5 {
		id := uniqueID(t, fmt.Sprint("sub", i))
		c := paho(t, addr, id, false)
		subscribe(t, c, "h/#", 1)
		c.Disconnect(0)
		ids = append(ids, id)
	}
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	publish(t, pub, "h/big", 1, false, strings.Repeat("x", 10_000))
	var msgs, refs int
	for _, k := range heldRecords(messages) {
		switch k[0] {
		case heldMsgPrefix:
			msgs++
			messages.mu.Lock()
			if n := len(messages.m[k]); n > 10_100 {
				t.Errorf("message record of %d bytes", n)
			}
			messages.mu.Unlock()
		case heldRefPrefix:
			refs++
		}
	}
	if msgs != 1 || refs != 5 {
		t.Fatalf("stored %d messages and %d references, want 1 and 5", msgs, refs)
	}
	for _, id := range ids {
		paho(t, addr, id, true).Disconnect(0)
	}
	waitFor(t, "ended sessions to let go", func() bool { return len(heldRecords(messages)) == 0 })
}

// The crash scenario on offline's KV: written records share commits and
// survive a reopen of the file after the first broker was dropped
// without a Flush.
func TestBroker_held_offlineDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway.db")
	db, err := offline.Open(path, offline.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() }) // after the broker's shutdown
	opts := heldOptions(t, db.KV("sessions"), db.KV("held"))
	b1, addr := runNew(t, opts)
	subID := uniqueID(t, "sub")
	sub := paho(t, addr, subID, false)
	subscribe(t, sub, "h/#", 1)
	sub.Disconnect(0)
	waitFor(t, "the subscriber to leave", func() bool { return b1.Stats().ClientsConnected == 0 })
	pubs := make([]mqtt.Client, 8)
	for i := range pubs {
		pubs[i] = paho(t, addr, uniqueID(t, fmt.Sprint("pub", i)), true)
	}
	before := db.Stats().Commits
	const per = 50
	var toks []mqtt.Token
	for j := range per {
		for i, p := range pubs {
			toks = append(toks, p.Publish(fmt.Sprintf("h/%d", i), 1, false, fmt.Sprint(j)))
		}
	}
	for _, tok := range toks {
		done(t, tok, "publish")
	}
	commits := db.Stats().Commits - before
	t.Logf("%d messages for an offline session: %d commits", len(toks), commits)
	if commits >= uint64(len(toks)) {
		t.Errorf("%d commits for %d messages published at once", commits, len(toks))
	}
	// What is on the file now is what a kill -9 leaves: copy it.
	snapshot := filepath.Join(t.TempDir(), "copy.db")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(snapshot, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db2, err := offline.Open(snapshot, offline.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	addr2 := crashRestart(t, heldOptions(t, db2.KV("sessions"), db2.KV("held")))
	in := newInbox()
	_, tok := pahoConnect(t, addr2, subID, false, func(o *mqtt.ClientOptions) { o.SetDefaultPublishHandler(in.handle) })
	done(t, tok, "reconnect")
	next := make([]int, len(pubs))
	for range len(toks) {
		m := in.next(t)
		var i, j int
		if _, err := fmt.Sscanf(m.Topic()+" "+string(m.Payload()), "h/%d %d", &i, &j); err != nil {
			t.Fatalf("message %s %q: %v", m.Topic(), m.Payload(), err)
		}
		if j != next[i] {
			t.Fatalf("publisher %d: message %d, want %d", i, j, next[i])
		}
		next[i]++
	}
}

// TestBroker_held_maxQueuedBytes: an offline session's queue is bounded
// in bytes as well as in messages; the newest messages are the ones
// dropped and counted, on disk as in memory.
func TestBroker_held_maxQueuedBytes(t *testing.T) {
	sessions, messages := newMemStore(), newMemStore()
	opts := heldOptions(t, sessions, messages)
	opts.MaxQueuedBytes = 3000
	b, addr := startBroker(t, opts)
	subID := uniqueID(t, "sub")
	sub := paho(t, addr, subID, false)
	subscribe(t, sub, "h/#", 1)
	sub.Disconnect(0)
	waitFor(t, "the subscriber to leave", func() bool { return b.Stats().ClientsConnected == 0 })
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	for i := range 10 {
		publish(t, pub, "h/x", 1, false, fmt.Sprint(i)+strings.Repeat("x", 999))
	}
	if got := len(heldRecords(messages)); got != 4 { // 2 messages, 2 references
		t.Errorf("%d records stored, want 4: %q", got, heldRecords(messages))
	}
	in := newInbox()
	_, tok := pahoConnect(t, addr, subID, false, func(o *mqtt.ClientOptions) { o.SetDefaultPublishHandler(in.handle) })
	done(t, tok, "reconnect")
	for i := range 2 {
		if m := in.next(t); m.Payload()[0] != byte('0'+i) {
			t.Fatalf("message %d: %q...", i, m.Payload()[:1])
		}
	}
	select {
	case m := <-in.ch:
		t.Fatalf("a third message arrived: %q...", m.Payload()[:1])
	case <-time.After(200 * time.Millisecond):
	}
}

// TestBroker_held_subscriptionDurable: a persistent session's subscription
// is on disk when SUBACK arrives: after a crash with nothing else written,
// the session is there and messages for it are kept.
func TestBroker_held_subscriptionDurable(t *testing.T) {
	sessions, messages := newMemStore(), newMemStore()
	opts := heldOptions(t, sessions, messages)
	_, addr := runNew(t, opts)
	subID := uniqueID(t, "sub")
	subscribe(t, paho(t, addr, subID, false), "h/#", 1)

	addr2 := crashRestart(t, opts)
	publish(t, paho(t, addr2, uniqueID(t, "pub"), true), "h/after", 1, false, "kept")
	in := newInbox()
	_, tok := pahoConnect(t, addr2, subID, false, func(o *mqtt.ClientOptions) { o.SetDefaultPublishHandler(in.handle) })
	done(t, tok, "reconnect")
	if !tok.SessionPresent() {
		t.Fatal("session not present after the crash")
	}
	in.expect(t, "h/after", "kept")
}

// heldRecords returns the keys of the messages and references in a store
// (not the id reservation).
func heldRecords(s *memStore) []string {
	var out []string
	for _, k := range s.keys() {
		if k != heldNextKey {
			out = append(out, k)
		}
	}
	return out
}

// TestBroker_held_idsNotReused: a session record written before a crash
// names a QoS 2 message whose PUBREC had arrived; the message was then
// completed and deleted. A message stored after the restart must not get
// its id: a later restart would take it for the old one, send only PUBREL
// for it, and never deliver it. (It did: the power-cut test with a
// connected local subscriber lost messages this way.)
func TestBroker_held_idsNotReused(t *testing.T) {
	sessions, messages := newMemStore(), newMemStore()
	opts := heldOptions(t, sessions, messages)
	b1, addr := runNew(t, opts)
	subID := uniqueID(t, "raw")
	raw, _ := connectRaw(t, addr, subID, false)
	raw.subscribe(1, "h/#", 2)
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	tok := pub.Publish("h/a", 2, false, "first")
	p := raw.publish()
	raw.send(&packet.Pubrec{PacketID: p.PacketID})
	raw.expectPacket(&packet.Pubrel{PacketID: p.PacketID})
	done(t, tok, "publish first")
	if err := b1.Flush(); err != nil { // the periodic snapshot: "awaiting PUBCOMP"
		t.Fatal(err)
	}
	raw.send(&packet.Pubcomp{PacketID: p.PacketID})
	waitFor(t, "the first message to leave the store", func() bool { return len(heldRecords(messages)) == 0 })
	_ = raw.conn.Close()

	opts2 := heldOptions(t, sessions.snapshot(), messages.snapshot())
	addr2 := crashRestart(t, opts2)
	publish(t, paho(t, addr2, uniqueID(t, "pub2"), true), "h/b", 2, false, "second")

	addr3 := crashRestart(t, heldOptions(t, opts2.Sessions.(*memStore).snapshot(), opts2.Messages.(*memStore).snapshot()))
	raw3, _ := connectRaw(t, addr3, subID, false)
	for {
		switch p := raw3.read().(type) {
		case *packet.Pubrel: // the first message's, from the old record
			raw3.send(&packet.Pubcomp{PacketID: p.PacketID})
		case *packet.Publish:
			if string(p.Payload) != "second" {
				t.Fatalf("got %q, want the second message", p.Payload)
			}
			return
		default:
			t.Fatalf("unexpected %T", p)
		}
	}
}

// snapshot returns a copy of the store: what a crash at this moment leaves.
func (s *memStore) snapshot() *memStore {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &memStore{m: maps.Clone(s.m)}
}

// TestBroker_held_crashWhileConnected: a persistent subscriber is connected
// while a publisher sends QoS 1 and 2 messages; at a random moment the
// store is copied (what a crash leaves) and a second broker starts on the
// copy. Every message the publisher got its acknowledgement for before
// the copy reached the subscriber before it, or after the restart.
func TestBroker_held_crashWhileConnected(t *testing.T) {
	for round := range 4 {
		sessions, messages := newMemStore(), newMemStore()
		opts := heldOptions(t, sessions, messages)
		opts.CommitDelay = 5 * time.Millisecond
		b1, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		addr, stop := runUntilStopped(t, b1)
		subID := uniqueID(t, fmt.Sprint("sub", round))
		var mu sync.Mutex
		got := map[string]bool{}
		record := func(_ mqtt.Client, m mqtt.Message) {
			mu.Lock()
			got[strings.Fields(string(m.Payload()))[0]] = true
			mu.Unlock()
		}
		withRecord := func(o *mqtt.ClientOptions) { o.SetDefaultPublishHandler(record) }
		sub, tok := pahoConnect(t, addr, subID, false, withRecord)
		done(t, tok, "connect")
		done(t, sub.Subscribe("h/#", 2, nil), "subscribe")

		var amu sync.Mutex
		var acked []string
		pub := paho(t, addr, uniqueID(t, "pub"), true)
		stopPub := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopPub:
					return
				default:
				}
				id := fmt.Sprintf("m%d-%d", round, i)
				tk := pub.Publish("h/x", byte(1+i%2), false, id+" payload")
				wg.Go(func() {
					if tk.WaitTimeout(5*time.Second) && tk.Error() == nil {
						amu.Lock()
						acked = append(acked, id)
						amu.Unlock()
					}
				})
				if i%8 == 7 {
					tk.WaitTimeout(5 * time.Second)
				}
			}
		})
		time.Sleep(time.Duration(100+50*round) * time.Millisecond)
		amu.Lock()
		ackedAtCrash := append([]string(nil), acked...)
		amu.Unlock()
		s1, m1 := sessions.snapshot(), messages.snapshot()
		close(stopPub)
		wg.Wait()
		sub.Disconnect(0)
		stop()

		addr2 := crashRestart(t, heldOptions(t, s1, m1))
		_, tok = pahoConnect(t, addr2, subID, false, withRecord)
		done(t, tok, "reconnect")
		waitFor(t, "the held messages", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ackedAtCrash {
				if !got[id] {
					return false
				}
			}
			return true
		})
		t.Logf("round %d: %d acknowledged before the crash, all received", round, len(ackedAtCrash))
	}
}

// TestBroker_held_memory, finding 4 of issue 9: 1,000 persistent sessions
// away, 100 messages of 1 KiB for each. Each session stored its own copy of
// every message, on disk and, after a restart, in memory: 100 MiB for
// 100 KiB of payload. Stored once with a reference per session, the store
// and the restart's memory stay proportional to what is stored.
func TestBroker_held_memory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("memory figures need a normal build")
	}
	const sessions, msgs = 1000, 100
	measure := func(held bool) (dbMiB, heapMiB float64) {
		path := filepath.Join(t.TempDir(), "gateway.db")
		db, err := offline.Open(path, offline.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		opts := heldOptions(t, db.KV("sessions"), nil)
		opts.Logger = slog.New(slog.DiscardHandler)
		if held {
			opts.Messages = db.KV("held")
		}
		opts.MaxSessions = 2 * sessions
		b1, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		addr, stop := runUntilStopped(t, b1)
		for i := range sessions {
			raw, _ := connectRaw(t, addr, fmt.Sprint("fleet-", i), false)
			raw.subscribe(1, "fleet/#", 1)
			_ = raw.conn.Close()
		}
		waitFor(t, "the sessions to go away", func() bool { return b1.Stats().ClientsConnected == 0 })
		pub := paho(t, addr, uniqueID(t, "pub"), true)
		payload := strings.Repeat("x", 1024)
		for i := range msgs {
			publish(t, pub, fmt.Sprint("fleet/", i), 1, false, payload)
		}
		pub.Disconnect(0)
		stop()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		before := heapObjects()
		b2, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		after := heapObjects()
		runtime.KeepAlive(b2)
		return float64(fi.Size()) / (1 << 20), float64(after-before) / (1 << 20)
	}
	heldDB, heldHeap := measure(true)
	copyDB, copyHeap := measure(false)
	t.Logf("%d sessions × %d messages of 1 KiB: stored once: file %.1f MiB, heap after restart +%.1f MiB; a copy per session: %.1f MiB, +%.1f MiB",
		sessions, msgs, heldDB, heldHeap, copyDB, copyHeap)
	if heldHeap > 25 {
		t.Errorf("restart holds %.1f MiB more for 100 KiB of payload", heldHeap)
	}
	if heldDB > 32 {
		t.Errorf("store file %.1f MiB for 100 KiB of payload", heldDB)
	}
}

// heapObjects returns the bytes of live heap objects after a collection.
func heapObjects() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
