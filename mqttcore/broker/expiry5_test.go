package broker

import (
	"testing"
	"time"

	paho5c "github.com/eclipse/paho.golang/paho"

	"github.com/edgegw/edgegw/internal/bootclock"
)

// expiryOf returns a delivered message's Message Expiry Interval, failing
// the test when it has none.
func expiryOf(t *testing.T, p *paho5c.Publish) uint32 {
	t.Helper()
	if p.Properties == nil || p.Properties.MessageExpiry == nil {
		t.Fatalf("%s %q arrived without a Message Expiry Interval", p.Topic, p.Payload)
	}
	return *p.Properties.MessageExpiry
}

// TestBroker_V5_retainedExpiry: a retained message whose Message Expiry
// Interval ran out is not delivered to a new subscription, and one that is
// delivered carries the time it has left (3.3.2.3.3) [MQTT-3.3.2-6]. Across
// a restart on the same store the countdown goes on: a message that
// expired while the broker was down is not delivered (and its record is
// deleted), one still valid arrives with less time than before, with its
// other properties.
func TestBroker_V5_retainedExpiry(t *testing.T) {
	retained := newMemStore()
	opts := testOptions(t)
	opts.Retained = retained
	b, addr := startBroker(t, opts)
	pub := connectV5(t, addr, "pub", nil)
	for _, m := range []struct {
		topic string
		secs  uint32
	}{{"rx/short", 1}, {"rx/mid", 3}, {"rx/long", 100}} {
		secs := m.secs
		pub.pub(t, &paho5c.Publish{Topic: m.topic, QoS: 1, Retain: true, Payload: []byte(m.topic),
			Properties: &paho5c.PublishProperties{MessageExpiry: &secs, ContentType: "text/plain"}})
	}
	time.Sleep(1100 * time.Millisecond)

	sub := connectV5(t, addr, "sub", nil)
	sub.sub(t, paho5c.SubscribeOptions{Topic: "rx/#", QoS: 1})
	got := map[string]uint32{}
	for range 2 {
		p := sub.next(t)
		got[p.Topic] = expiryOf(t, p)
	}
	sub.none(t)
	if e, ok := got["rx/long"]; !ok || e != 99 {
		t.Errorf("rx/long delivered with %d s left (ok %v), want 99 (100 less the 1.1 s it waited, rounded up)", e, ok)
	}
	if e, ok := got["rx/mid"]; !ok || e != 2 {
		t.Errorf("rx/mid delivered with %d s left (ok %v), want 2", e, ok)
	}
	if n := b.Stats().RetainedExpired; n != 1 {
		t.Errorf("Stats.RetainedExpired %d, want 1 (rx/short)", n)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if retained.value("rx/short") != nil {
		t.Error("the expired rx/short is still in the store after a Flush")
	}

	time.Sleep(2 * time.Second) // rx/mid runs out while the broker is "down"
	b2, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr2 := serve(t, b2)
	sub2 := connectV5(t, addr2, "sub2", nil)
	sub2.sub(t, paho5c.SubscribeOptions{Topic: "rx/#", QoS: 1})
	p := sub2.next(t)
	if p.Topic != "rx/long" || p.Properties.ContentType != "text/plain" {
		t.Fatalf("after the restart got %s %+v, want rx/long with its content type", p.Topic, p.Properties)
	}
	if e := expiryOf(t, p); e > 97 || e < 90 {
		t.Errorf("after the restart rx/long has %d s left, want 97 (100 less the 3.1 s since it was published)", e)
	}
	sub2.none(t)
	if err := b2.Flush(); err != nil {
		t.Fatal(err)
	}
	if retained.value("rx/mid") != nil {
		t.Error("rx/mid, expired across the restart, is still in the store")
	}
}

// TestDecodeExpiry: an expiry stamp of this boot counts the boot time
// since it was written; one of another boot gives what was left when it
// was written, from now (the downtime is unknown); one with nothing left
// is expired.
func TestDecodeExpiry(t *testing.T) {
	now := time.Now()
	at := bootclock.Stamp{Boot: 7, Since: time.Hour}
	tests := []struct {
		name    string
		written bootclock.Stamp
		left    time.Duration
		want    time.Duration // from now; ≤ 0: expired
	}{
		{"this boot", bootclock.Stamp{Boot: 7, Since: time.Hour - 10*time.Second}, time.Minute, 50 * time.Second},
		{"this boot, expired", bootclock.Stamp{Boot: 7, Since: time.Hour - 2*time.Minute}, time.Minute, -1},
		{"another boot", bootclock.Stamp{Boot: 8, Since: 5 * time.Hour}, time.Minute, time.Minute},
		{"nothing left", bootclock.Stamp{Boot: 8, Since: time.Hour}, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.written
			v := appendExpiry(nil, now.Add(tt.left), now, w)
			v = append(v, 'x')
			got, rest, err := decodeExpiry(v, now, at)
			if err != nil || string(rest) != "x" {
				t.Fatalf("decodeExpiry = %v, %q, %v", got, rest, err)
			}
			if d := got.Sub(now); tt.want < 0 && d >= 0 || tt.want >= 0 && d != tt.want {
				t.Errorf("expires in %v, want %v", d, tt.want)
			}
		})
	}
	if _, _, err := decodeExpiry([]byte{0x80}, now, at); err == nil {
		t.Error("a truncated stamp decoded")
	}
}

// TestBroker_V5_heldPropertiesRestart: messages held for an offline MQTT
// 5.0 persistent session keep their properties across a restart (what a
// kill -9 leaves: the records written before the publisher's
// acknowledgement): payload format, content type, response topic,
// correlation data, user properties in order, and the Message Expiry
// Interval counted down; one that expired meanwhile is not delivered.
func TestBroker_V5_heldPropertiesRestart(t *testing.T) {
	opts := heldOptions(t, newMemStore(), newMemStore())
	_, addr := runNew(t, opts)
	persistent := keepSession(3600)
	away := connectV5(t, addr, "qp-sub", persistent)
	away.sub(t, paho5c.SubscribeOptions{Topic: "qp/#", QoS: 2})
	_ = away.Disconnect(&paho5c.Disconnect{})
	<-away.Done()

	pub := connectV5(t, addr, "qp-pub", nil)
	pf, hundred, one := byte(1), uint32(100), uint32(1)
	full := &paho5c.PublishProperties{PayloadFormat: &pf, MessageExpiry: &hundred, ContentType: "text/plain",
		ResponseTopic: "reply/here", CorrelationData: []byte{1, 2, 3},
		User: paho5c.UserProperties{{Key: "k", Value: "v"}, {Key: "k", Value: "w"}, {Key: "a", Value: "b"}}}
	pub.pub(t, &paho5c.Publish{Topic: "qp/a", QoS: 1, Payload: []byte("a"), Properties: full})
	pub.pub(t, &paho5c.Publish{Topic: "qp/short", QoS: 1, Payload: []byte("s"),
		Properties: &paho5c.PublishProperties{MessageExpiry: &one}})
	pub.pub(t, &paho5c.Publish{Topic: "qp/b", QoS: 2, Payload: []byte("b"),
		Properties: &paho5c.PublishProperties{User: paho5c.UserProperties{{Key: "only", Value: "user"}}}})
	time.Sleep(1100 * time.Millisecond)

	addr2 := crashRestart(t, opts)
	back := connectV5(t, addr2, "qp-sub", persistent)
	if !back.ack.SessionPresent {
		t.Fatal("session not present after the restart")
	}
	a := back.next(t)
	ap := a.Properties
	if a.Topic != "qp/a" || a.QoS != 1 || string(a.Payload) != "a" || ap == nil {
		t.Fatalf("first message %s qos %d %q %+v, want qp/a at QoS 1 with properties", a.Topic, a.QoS, a.Payload, ap)
	}
	if ap.PayloadFormat == nil || *ap.PayloadFormat != 1 || ap.ContentType != "text/plain" || ap.ResponseTopic != "reply/here" ||
		string(ap.CorrelationData) != "\x01\x02\x03" || len(ap.User) != 3 || ap.User[0] != full.User[0] ||
		ap.User[1] != full.User[1] || ap.User[2] != full.User[2] {
		t.Errorf("qp/a properties after the restart %+v, want %+v", ap, full)
	}
	if e := expiryOf(t, a); e > 99 || e < 90 {
		t.Errorf("qp/a has %d s left after waiting 1.1 s, want 99", e)
	}
	bm := back.next(t)
	if bm.Topic != "qp/b" || bm.QoS != 2 || bm.Properties == nil || len(bm.Properties.User) != 1 ||
		bm.Properties.User[0] != (paho5c.UserProperty{Key: "only", Value: "user"}) || bm.Properties.MessageExpiry != nil {
		t.Errorf("second message %s qos %d %+v, want qp/b at QoS 2 with its user property and no expiry", bm.Topic, bm.QoS, bm.Properties)
	}
	back.none(t) // qp/short expired
}
