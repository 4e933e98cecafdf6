package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
)

// retainedOf subscribes a new Paho client to filter, then makes a round
// trip through the broker (a marker message) and returns the retained
// messages that arrived before the marker, by topic.
func retainedOf(t *testing.T, addr, filter string, qos byte) map[string]mqtt.Message {
	t.Helper()
	c := paho(t, addr, uniqueID(t, "probe"), true)
	in := subscribe(t, c, filter, qos)
	marker := subscribe(t, c, "retained-marker", 0)
	publish(t, c, "retained-marker", 1, false, "end")
	marker.expect(t, "retained-marker", "end")
	got := make(map[string]mqtt.Message)
	for {
		select {
		case m := <-in.ch:
			if m.Topic() != "retained-marker" {
				got[m.Topic()] = m
			}
		default:
			c.Disconnect(0)
			return got
		}
	}
}

func TestBroker_retained(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	live := subscribe(t, paho(t, addr, uniqueID(t, "live"), true), "r/#", 2)

	publish(t, pub, "r/a", 1, true, "1")
	publish(t, pub, "r/b", 0, true, "2")
	publish(t, pub, "r/c", 2, false, "not retained")
	for _, want := range []string{"1", "2", "not retained"} {
		if m := live.next(t); string(m.Payload()) != want || m.Retained() {
			t.Fatalf("live subscriber got %q retained=%v, want %q with RETAIN 0", m.Payload(), m.Retained(), want) // [MQTT-3.3.1-9]
		}
	}

	t.Run("new subscriber gets retained messages with RETAIN 1", func(t *testing.T) {
		got := retainedOf(t, addr, "r/#", 2) // [MQTT-3.3.1-6] [MQTT-3.3.1-8]
		if len(got) != 2 || string(got["r/a"].Payload()) != "1" || string(got["r/b"].Payload()) != "2" {
			t.Fatalf("retained = %v, want r/a=1 and r/b=2", payloads(got))
		}
		for name, m := range got {
			if !m.Retained() {
				t.Errorf("%s delivered with RETAIN 0", name)
			}
		}
		if got["r/a"].Qos() != 1 || got["r/b"].Qos() != 0 {
			t.Errorf("QoS r/a %d r/b %d, want the messages' own 1 and 0", got["r/a"].Qos(), got["r/b"].Qos())
		}
	})
	t.Run("granted QoS caps the retained message's", func(t *testing.T) {
		if m := retainedOf(t, addr, "r/a", 0)["r/a"]; m == nil || m.Qos() != 0 {
			t.Fatalf("r/a at subscription QoS 0: %v", m)
		}
	})
	t.Run("a non-retained publish leaves the retained message alone", func(t *testing.T) {
		publish(t, pub, "r/a", 1, false, "transient") // [MQTT-3.3.1-12]
		if m := retainedOf(t, addr, "r/a", 1)["r/a"]; m == nil || string(m.Payload()) != "1" {
			t.Fatalf("r/a = %v, want 1", m)
		}
	})
	t.Run("a retained publish replaces it", func(t *testing.T) {
		publish(t, pub, "r/a", 0, true, "3")      // [MQTT-3.3.1-5] [MQTT-3.3.1-7]
		publish(t, pub, "r/marker", 1, false, "") // acknowledged after "3" was handled
		if m := retainedOf(t, addr, "r/a", 1)["r/a"]; m == nil || string(m.Payload()) != "3" {
			t.Fatalf("r/a = %v, want 3", m)
		}
	})
	t.Run("an empty retained publish clears it and is delivered", func(t *testing.T) {
		publish(t, pub, "r/drained", 1, false, "m") // not retained; after everything pub sent before
		for live.next(t).Topic() != "r/drained" {
		}
		publish(t, pub, "r/a", 1, true, "") // [MQTT-3.3.1-10] [MQTT-3.3.1-11]
		if m := live.next(t); m.Topic() != "r/a" || len(m.Payload()) != 0 {
			t.Fatalf("live subscriber got %s %q, want the empty message", m.Topic(), m.Payload())
		}
		got := retainedOf(t, addr, "r/#", 1)
		if _, ok := got["r/a"]; ok || len(got) != 1 {
			t.Fatalf("retained = %v, want only r/b", payloads(got))
		}
		if n := b.Stats().Retained; n != 1 {
			t.Errorf("Stats().Retained = %d, want 1", n)
		}
	})
	t.Run("subscribing again re-sends them", func(t *testing.T) {
		c := paho(t, addr, uniqueID(t, "again"), true)
		in := subscribe(t, c, "r/b", 1)
		in.expect(t, "r/b", "2")
		done(t, c.Subscribe("r/b", 1, in.handle), "subscribe again") // [MQTT-3.8.4-3]
		if m := in.expect(t, "r/b", "2"); !m.Retained() {
			t.Error("re-sent with RETAIN 0")
		}
	})
	t.Run("wildcards at the root do not match $ topics", func(t *testing.T) {
		if err := b.Publish(t.Context(), "test", mqttPublish("$SYS/test/x", "sys", true)); err != nil {
			t.Fatal(err)
		}
		if got := retainedOf(t, addr, "#", 1); got["$SYS/test/x"] != nil { // [MQTT-4.7.2-1]
			t.Errorf("# matched a $SYS topic")
		}
		if got := retainedOf(t, addr, "$SYS/test/+", 1); got["$SYS/test/x"] == nil {
			t.Errorf("$SYS/test/+ did not match $SYS/test/x")
		}
	})
}

func payloads(ms map[string]mqtt.Message) map[string]string {
	out := make(map[string]string, len(ms))
	for k, m := range ms {
		out[k] = string(m.Payload())
	}
	return out
}

// Finding 11: a new QoS 0 subscriber gets every retained message, even
// five times more than its outbound queue holds: they are paced, not
// dropped (Mosquitto delivers them all too).
func TestBroker_retained_pacedForQoS0(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	const n = 5000
	payload := make([]byte, 1024) // 5 MiB in all: more than socket buffers hold
	for i := range n {
		if err := b.Publish(context.Background(), "test", &packet.Publish{Topic: fmt.Sprint("many/", i), Retain: true, Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	sub := paho(t, addr, uniqueID(t, "sub"), true)
	in := subscribe(t, sub, "many/#", 0)
	got := make(map[string]bool)
	for len(got) < n {
		select {
		case m := <-in.ch:
			got[m.Topic()] = true
		case <-time.After(2 * time.Second):
			t.Fatalf("%d of %d retained messages arrived (dropped for a slow client: %d)", len(got), n, b.Stats().Dropped.SlowClient)
		}
	}
}

// A reader pacing retained messages for a client that does not read gives
// up as soon as the connection is closed (here by a takeover), not after
// WriteTimeout: the connection's goroutine, and its will, are not held up.
func TestBroker_retained_pacingEndsWithConnection(t *testing.T) {
	opts := testOptions(t)
	opts.MaxOutbound, opts.WriteTimeout = 10, time.Minute
	b, addr := startBroker(t, opts)
	payload := make([]byte, 1024)
	for i := range 5000 { // 5 MiB: more than socket buffers hold
		if err := b.Publish(context.Background(), "test", &packet.Publish{Topic: fmt.Sprint("many/", i), Retain: true, Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	id := uniqueID(t, "c")
	c, _ := connectRaw(t, addr, id, true)
	c.send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "many/#", QoS: 0}}})
	time.Sleep(100 * time.Millisecond) // the reader waits for room; c reads nothing
	connectRaw(t, addr, id, true)      // takes over: c is closed
	if !mqtttest.Poll(2*time.Second, func() bool { return b.Stats().Connections == 1 }) {
		t.Fatalf("the taken-over connection still served after 2 s (WriteTimeout %v)", opts.WriteTimeout)
	}
}

// Finding 12, the broker side: retained messages (from clients or from the
// bridge's inline publishes, here) are bounded in count and bytes; what does
// not fit is delivered, not retained, and counted. Replacing and clearing
// still work.
func TestBroker_retained_limits(t *testing.T) {
	opts := testOptions(t)
	opts.MaxRetained, opts.MaxRetainedBytes = 3, 50 // each message below: 3 + 20 bytes
	b, addr := startBroker(t, opts)
	sub := paho(t, addr, uniqueID(t, "sub"), true)
	live := subscribe(t, sub, "r/#", 0)
	pub := func(topic, payload string) {
		t.Helper()
		if err := b.Publish(context.Background(), "$bridge", &packet.Publish{Topic: topic, Retain: true, Payload: []byte(payload)}); err != nil {
			t.Fatal(err)
		}
		live.expect(t, topic, payload) // delivered whether retained or not
	}
	twenty := func(c string) string { return fmt.Sprintf("%020s", c) }
	pub("r/1", twenty("1"))
	pub("r/2", twenty("2"))
	pub("r/3", twenty("3")) // 69 bytes: over
	if st := b.Stats(); st.Retained != 2 || st.RetainedRefused != 1 {
		t.Fatalf("Retained %d, RetainedRefused %d; want 2, 1", st.Retained, st.RetainedRefused)
	}
	pub("r/1", twenty("one"))         // a replacement of the same size fits
	pub("r/2", twenty("two")+"extra") // a larger one does not: the old one stays
	pub("r/2", "")                    // clearing frees room
	pub("r/3", twenty("3"))
	got := retainedOf(t, addr, "r/#", 0)
	if len(got) != 2 || string(got["r/1"].Payload()) != twenty("one") || string(got["r/3"].Payload()) != twenty("3") {
		t.Fatalf("retained = %v", payloads(got))
	}
	if n := b.Stats().RetainedRefused; n != 2 {
		t.Fatalf("RetainedRefused = %d, want 2", n)
	}
}
