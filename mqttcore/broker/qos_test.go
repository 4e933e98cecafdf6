package broker

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Every combination of publish and subscription QoS, Paho on both ends:
// the message arrives once, at the lower QoS [MQTT-3.3.5-1], with RETAIN 0.
func TestBroker_qos_matrix(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	sub := paho(t, addr, uniqueID(t, "sub"), true)
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	for subQoS := byte(0); subQoS <= 2; subQoS++ {
		for pubQoS := byte(0); pubQoS <= 2; pubQoS++ {
			t.Run(fmt.Sprintf("pub%d-sub%d", pubQoS, subQoS), func(t *testing.T) {
				name := fmt.Sprintf("qos/%d/%d", pubQoS, subQoS)
				in := subscribe(t, sub, name, subQoS)
				publish(t, pub, name, pubQoS, false, "m")
				m := in.expect(t, name, "m")
				if want := min(pubQoS, subQoS); m.Qos() != want || m.Retained() || m.Duplicate() {
					t.Errorf("qos %d retained %v dup %v, want qos %d, not retained, not dup", m.Qos(), m.Retained(), m.Duplicate(), want)
				}
			})
		}
	}
}

// A client whose filters overlap gets one copy, at the highest QoS of the
// matching subscriptions [MQTT-3.3.5-1].
func TestBroker_qos_overlappingSubscriptions(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	sub, _ := connectRaw(t, addr, uniqueID(t, "sub"), true)
	sub.send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "o/+", QoS: 0}, {Filter: "o/#", QoS: 1}, {Filter: "o/b", QoS: 0}}})
	sub.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{0, 1, 0}})
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	publish(t, pub, "o/b", 2, false, "once")
	publish(t, pub, "o/b", 0, false, "marker")

	p := sub.publish()
	if p.Topic != "o/b" || string(p.Payload) != "once" || p.QoS != 1 {
		t.Fatalf("first delivery %+v, want o/b once at QoS 1", p)
	}
	sub.send(&packet.Puback{PacketID: p.PacketID})
	if p := sub.publish(); string(p.Payload) != "marker" {
		t.Fatalf("second delivery %q, want the marker (no duplicate)", p.Payload)
	}
}

// MaxInflight unacknowledged messages at most; the rest wait in order, and
// a reconnecting persistent session gets the unacknowledged ones again with
// DUP set and their original identifiers, first, then the queue
// [MQTT-4.4.0-1] [MQTT-3.3.1-1].
func TestBroker_qos_inflightWindowAndRedelivery(t *testing.T) {
	opts := testOptions(t)
	opts.MaxInflight = 2
	_, addr := startBroker(t, opts)
	id := uniqueID(t, "sub")
	sub, _ := connectRaw(t, addr, id, false)
	sub.subscribe(1, "w/#", 1)
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	for i := 1; i <= 5; i++ {
		publish(t, pub, "w/x", 1, false, fmt.Sprint("m", i))
	}

	m1, m2 := sub.publish(), sub.publish()
	sub.send(&packet.Pingreq{})
	sub.expectPacket(&packet.Pingresp{}) // the window is full: m3 waits
	sub.send(&packet.Puback{PacketID: m1.PacketID})
	m3 := sub.publish()
	for i, m := range []*packet.Publish{m1, m2, m3} {
		if want := fmt.Sprint("m", i+1); string(m.Payload) != want || m.Dup || m.QoS != 1 {
			t.Fatalf("delivery %d = %+v, want %s, QoS 1, no DUP", i+1, m, want)
		}
	}
	_ = sub.conn.Close() // m2 and m3 unacknowledged

	sub, ack := connectRaw(t, addr, id, false)
	if !ack.SessionPresent {
		t.Fatal("session present = false after reconnect")
	}
	r2, r3 := sub.publish(), sub.publish()
	for _, c := range []struct{ got, orig *packet.Publish }{{r2, m2}, {r3, m3}} {
		if !c.got.Dup || c.got.PacketID != c.orig.PacketID || string(c.got.Payload) != string(c.orig.Payload) {
			t.Fatalf("re-sent %+v, want %q with DUP and id %d", c.got, c.orig.Payload, c.orig.PacketID)
		}
	}
	sub.send(&packet.Pingreq{})
	sub.expectPacket(&packet.Pingresp{})
	sub.send(&packet.Puback{PacketID: r2.PacketID})
	sub.send(&packet.Puback{PacketID: r3.PacketID})
	for _, want := range []string{"m4", "m5"} {
		m := sub.publish()
		if string(m.Payload) != want || m.Dup {
			t.Fatalf("got %+v, want %s without DUP", m, want)
		}
		sub.send(&packet.Puback{PacketID: m.PacketID})
	}
}

// A QoS 2 message whose PUBREC the subscriber sent before it went away is
// completed with a re-sent PUBREL, not a second PUBLISH [MQTT-4.4.0-1].
func TestBroker_qos2_pubrelResentOnReconnect(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	id := uniqueID(t, "sub")
	sub, _ := connectRaw(t, addr, id, false)
	sub.subscribe(1, "q2/#", 2)
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	publish(t, pub, "q2/x", 2, false, "exactly once")
	m := sub.publish()
	sub.send(&packet.Pubrec{PacketID: m.PacketID})
	sub.expectPacket(&packet.Pubrel{PacketID: m.PacketID})
	_ = sub.conn.Close()

	sub, _ = connectRaw(t, addr, id, false)
	sub.expectPacket(&packet.Pubrel{PacketID: m.PacketID})
	sub.send(&packet.Pubcomp{PacketID: m.PacketID})
	publish(t, pub, "q2/x", 2, false, "next")
	if next := sub.publish(); string(next.Payload) != "next" || next.Dup {
		t.Fatalf("got %+v, want the next message", next)
	}
}

// An inbound QoS 2 PUBLISH re-sent before its PUBREL is acknowledged again
// but not delivered again [MQTT-4.3.3-2], also across a reconnect of a
// persistent session; after PUBREL the identifier is new again.
func TestBroker_qos2_receiverDedup(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	sub := paho(t, addr, uniqueID(t, "sub"), true)
	in := subscribe(t, sub, "dedup/#", 2)
	id := uniqueID(t, "pub")
	pub, _ := connectRaw(t, addr, id, false)

	first := &packet.Publish{Topic: "dedup/x", QoS: 2, PacketID: 7, Payload: []byte("first")}
	pub.send(first)
	pub.expectPacket(&packet.Pubrec{PacketID: 7})
	dup := *first
	dup.Dup = true
	pub.send(&dup)
	pub.expectPacket(&packet.Pubrec{PacketID: 7})
	_ = pub.conn.Close()

	pub, _ = connectRaw(t, addr, id, false)
	pub.send(&dup)
	pub.expectPacket(&packet.Pubrec{PacketID: 7})
	pub.send(&packet.Pubrel{PacketID: 7})
	pub.expectPacket(&packet.Pubcomp{PacketID: 7})
	pub.send(&packet.Publish{Topic: "dedup/x", QoS: 2, PacketID: 7, Payload: []byte("second")})
	pub.expectPacket(&packet.Pubrec{PacketID: 7})
	pub.send(&packet.Pubrel{PacketID: 7})
	pub.expectPacket(&packet.Pubcomp{PacketID: 7})

	in.expect(t, "dedup/x", "first")
	in.expect(t, "dedup/x", "second")
}

// A persistent session queues QoS 1/2 messages while its client is away,
// up to MaxQueued; the rest, and QoS 0 messages, are dropped and counted.
func TestBroker_qos_offlineQueue(t *testing.T) {
	opts := testOptions(t)
	opts.MaxQueued = 3
	b, addr := startBroker(t, opts)
	id := uniqueID(t, "sub")
	sub := paho(t, addr, id, false)
	subscribe(t, sub, "off/#", 2)
	sub.Disconnect(0)
	waitFor(t, "the subscriber to go offline", func() bool { return b.Stats().ClientsConnected == 0 })

	pub := paho(t, addr, uniqueID(t, "pub"), true)
	for i := 1; i <= 5; i++ {
		publish(t, pub, "off/x", byte(1+i%2), false, fmt.Sprint("m", i))
	}
	publish(t, pub, "off/x", 0, false, "qos0")
	waitFor(t, "the QoS 0 message to be dropped", func() bool { return b.Stats().Dropped.Offline == 1 })

	in := newInbox()
	paho(t, addr, id, false, func(o *mqtt.ClientOptions) { o.SetDefaultPublishHandler(in.handle) })
	for i := 1; i <= 3; i++ {
		m := in.expect(t, "off/x", fmt.Sprint("m", i))
		if want := byte(1 + i%2); m.Qos() != want {
			t.Errorf("m%d QoS %d, want %d", i, m.Qos(), want)
		}
	}
	publish(t, pub, "off/x", 1, false, "live")
	in.expect(t, "off/x", "live")
	st := b.Stats()
	if st.Dropped.QueueFull != 2 || st.Dropped.Offline != 1 {
		t.Errorf("dropped %+v, want QueueFull 2 and Offline 1", st.Dropped)
	}
}

// With an asynchronous hook, PUBACK and PUBREC wait for done and still
// leave in the order the PUBLISHes arrived [MQTT-4.6.0-2] [MQTT-4.6.0-3];
// other packets are not held up.
func TestBroker_qos_ackOrderWithAsyncHook(t *testing.T) {
	hook := newAsyncHook(t, true)
	opts := testOptions(t)
	opts.Hook = hook
	_, addr := startBroker(t, opts)
	pub, _ := connectRaw(t, addr, uniqueID(t, "pub"), true)
	pub.send(&packet.Publish{Topic: "h/1", QoS: 1, PacketID: 1, Payload: []byte("a")})
	pub.send(&packet.Publish{Topic: "h/2", QoS: 2, PacketID: 2, Payload: []byte("b")})
	pub.send(&packet.Publish{Topic: "h/0", QoS: 0, Payload: []byte("c")})
	pub.send(&packet.Publish{Topic: "h/3", QoS: 1, PacketID: 3, Payload: []byte("d")})
	pub.send(&packet.Pingreq{})
	pub.expectPacket(&packet.Pingresp{})
	waitFor(t, "the hook to see four messages", func() bool { return len(hook.calls()) == 4 })
	pub.send(&packet.Pubrel{PacketID: 9}) // PUBCOMP must queue behind the pending acks
	hook.open()
	pub.expectPacket(&packet.Puback{PacketID: 1})
	pub.expectPacket(&packet.Pubrec{PacketID: 2})
	pub.expectPacket(&packet.Puback{PacketID: 3})
	pub.expectPacket(&packet.Pubcomp{PacketID: 9})
	origin := uniqueID(t, "pub")
	want := []string{origin + " h/1 a", origin + " h/2 b", origin + " h/0 c", origin + " h/3 d"}
	if got := hook.calls(); !slices.Equal(got, want) {
		t.Errorf("hook saw %q, want %q", got, want)
	}
}

// A message the hook could not store is not acknowledged: the client is
// disconnected, and its re-sent message goes to the hook again.
func TestBroker_qos_hookFailure(t *testing.T) {
	hook := newAsyncHook(t, false)
	opts := testOptions(t)
	opts.Hook = hook
	_, addr := startBroker(t, opts)
	id := uniqueID(t, "pub")
	pub, _ := connectRaw(t, addr, id, false)
	hook.fail.Store(true)
	msg := &packet.Publish{Topic: "f/x", QoS: 2, PacketID: 5, Payload: []byte("p")}
	pub.send(msg)
	pub.expectClosed()

	hook.fail.Store(false)
	pub, _ = connectRaw(t, addr, id, false)
	msg.Dup = true
	pub.send(msg)
	pub.expectPacket(&packet.Pubrec{PacketID: 5})
	if n := len(hook.calls()); n != 2 {
		t.Errorf("hook called %d times, want 2 (the re-sent message is stored again)", n)
	}
}

// Finding 10: with max_inflight at its maximum, a burst fills the window
// at once; a subscriber that reads and acknowledges everything must not be
// disconnected as one that does not read (the stuck bound used to be
// 4 × MaxOutbound = 4000 packets, below the window).
func TestBroker_qos_maxInflightBurst(t *testing.T) {
	opts := testOptions(t)
	opts.MaxInflight = 65535
	b, addr := startBroker(t, opts)
	sub := paho(t, addr, uniqueID(t, "sub"), true)
	in, release := newInbox(), make(chan struct{})
	var pause sync.Once // the subscriber stops reading for the burst, as a busy one would
	done(t, sub.Subscribe("burst/#", 1, func(c mqtt.Client, m mqtt.Message) {
		pause.Do(func() { <-release })
		in.handle(c, m)
	}), "subscribe")
	const n = 10000
	for i := range n {
		payload := fmt.Appendf(make([]byte, 0, 1024), "%-1024d", i) // 10 MiB in all: more than socket buffers hold
		if err := b.Publish(context.Background(), "test", &packet.Publish{Topic: "burst/x", QoS: 1, Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	for i := range n {
		if m := in.next(t); strings.TrimSpace(string(m.Payload())) != strconv.Itoa(i) {
			t.Fatalf("message %d: got %.20q", i, m.Payload())
		}
	}
	if !sub.IsConnectionOpen() {
		t.Fatal("the subscriber was disconnected")
	}
}
