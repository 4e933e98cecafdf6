package broker

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// A subscriber that stops reading does not slow the others: its QoS 0
// messages are dropped once its queue is full, and it is disconnected when
// a write blocks for WriteTimeout. A fast subscriber gets every message.
func TestBroker_isolation_stuckSubscriber(t *testing.T) {
	opts := testOptions(t)
	opts.MaxOutbound = 64
	opts.WriteTimeout = 500 * time.Millisecond
	opts.MaxQueued = 100000
	b, addr := startBroker(t, opts)

	stuck, _ := connectRaw(t, addr, uniqueID(t, "stuck"), true)
	_ = stuck.conn.(*net.TCPConn).SetReadBuffer(4096)
	stuck.subscribe(1, "iso/#", 0) // and then never reads again

	fast := paho(t, addr, uniqueID(t, "fast"), true)
	in := subscribe(t, fast, "iso/#", 1)
	pub := paho(t, addr, uniqueID(t, "pub"), true)

	const n = 2000
	payload := strings.Repeat("x", 4096)
	for i := range n {
		tok := pub.Publish("iso/data", 1, false, fmt.Sprint(i, payload))
		if i%100 == 99 {
			done(t, tok, "publish")
		}
	}
	for i := range n {
		m := in.next(t)
		if want := fmt.Sprint(i, payload); string(m.Payload()) != want {
			t.Fatalf("message %d out of order or lost", i)
		}
	}
	waitFor(t, "the stuck client to be disconnected", func() bool { return b.Stats().ClientsConnected == 2 })
	if d := b.Stats().Dropped.SlowClient; d == 0 {
		t.Error("no QoS 0 message counted as dropped for the slow client")
	}
}

// A panic while handling one connection drops only that connection.
func TestBroker_isolation_panic(t *testing.T) {
	var logs syncBuffer
	opts := testOptions(t)
	opts.Logger = newBufferLogger(&logs)
	opts.Hook = panicHook{}
	_, addr := startBroker(t, opts)
	c, _ := connectRaw(t, addr, uniqueID(t, "victim"), true)
	c.send(&packet.Publish{Topic: "panic/now", QoS: 1, PacketID: 1, Payload: []byte("boom")})
	c.expectClosed()
	checkBrokerWorks(t, addr)
	waitFor(t, "the panic to be logged", func() bool { return strings.Contains(logs.String(), "panic in connection reader") })
}

// A panic in an inline subscriber is recovered; the publisher goes on.
func TestBroker_isolation_inlinePanic(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	unsub, err := b.Subscribe("bad", "ip/#", 0, func(*packet.Publish) { panic("inline bug") })
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	in := subscribe(t, pub, "ip/#", 1)
	publish(t, pub, "ip/x", 1, false, "still works")
	in.expect(t, "ip/x", "still works")
}

// panicHook panics for topics under panic/.
type panicHook struct{}

func (panicHook) OnPublish(_ string, p *packet.Publish, done func(error)) {
	if strings.HasPrefix(p.Topic, "panic/") {
		panic("hook bug")
	}
	done(nil)
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A client that does not read but keeps sending requests (whose answers
// cannot be dropped) is disconnected once its queue is four times over
// MaxOutbound, before the write timeout.
func TestBroker_isolation_requestFlood(t *testing.T) {
	var logs syncBuffer
	opts := testOptions(t)
	opts.Logger = newBufferLogger(&logs)
	opts.MaxOutbound = 8
	opts.WriteTimeout = time.Hour
	b, addr := startBroker(t, opts)
	c, _ := connectRaw(t, addr, uniqueID(t, "flood"), true)
	_ = c.conn.(*net.TCPConn).SetReadBuffer(4096)
	c.subscribe(1, "flood/#", 0)
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	payload := strings.Repeat("x", 64<<10)
	for range 100 { // fill the socket buffers, so that the writer blocks
		publish(t, pub, "flood/x", 0, false, payload)
	}
	waitFor(t, "QoS 0 drops", func() bool { return b.Stats().Dropped.SlowClient > 0 })
	for range 100 {
		if _, err := c.conn.Write([]byte{0xc0, 0x00}); err != nil {
			break // already disconnected
		}
	}
	waitFor(t, "the flooding client to be disconnected", func() bool { return strings.Contains(logs.String(), errStuck.Error()) })
	waitFor(t, "the client to be gone", func() bool { return b.Stats().ClientsConnected == 1 })
}
