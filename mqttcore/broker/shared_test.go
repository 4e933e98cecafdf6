package broker

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	paho5c "github.com/eclipse/paho.golang/paho"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// drain collects count messages from each channel's share, until the
// total reaches n; it returns the payloads each member got.
func drainShared(t *testing.T, n int, members ...*paho5) [][]string {
	t.Helper()
	got := make([][]string, len(members))
	deadline := time.After(wait)
	for total := 0; total < n; {
		progressed := false
		for i, m := range members {
			select {
			case p := <-m.in:
				got[i] = append(got[i], string(p.Payload))
				total++
				progressed = true
			default:
			}
		}
		if !progressed {
			select {
			case <-deadline:
				t.Fatalf("received %d of %d messages: %v", total, n, got)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return got
}

// A shared subscription spreads messages over its members, each message to
// exactly one of them, at the member's granted QoS; another share name is
// another shared subscription, which gets every message too, as does a
// normal subscription; no retained message is sent when a shared
// subscription is made; the CONNACK announces shared subscriptions.
func TestBroker_V5_sharedSpread(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	pub := connectV5(t, addr, "pub", nil)
	if p := pub.ack.Properties; p == nil || !p.SharedSubAvailable {
		t.Fatalf("CONNACK %+v: shared subscriptions not available", pub.ack.Properties)
	}
	pub.pub(t, &paho5c.Publish{Topic: "job/old", QoS: 1, Retain: true, Payload: []byte("retained")})
	var g []*paho5
	for i, qos := range []byte{1, 1, 0} {
		m := connectV5(t, addr, fmt.Sprintf("g%d", i), nil)
		m.sub(t, paho5c.SubscribeOptions{Topic: "$share/g/job/#", QoS: qos})
		g = append(g, m)
	}
	h := connectV5(t, addr, "h", nil)
	h.sub(t, paho5c.SubscribeOptions{Topic: "$share/h/job/+", QoS: 1})
	all := connectV5(t, addr, "all", nil)
	all.sub(t, paho5c.SubscribeOptions{Topic: "job/#", QoS: 1})
	if p := all.next(t); string(p.Payload) != "retained" {
		t.Fatalf("normal subscriber: %q", p.Payload)
	}

	const n = 30
	for i := range n {
		pub.pub(t, &paho5c.Publish{Topic: "job/x", QoS: 1, Payload: fmt.Appendf(nil, "m%02d", i)})
	}
	got := drainShared(t, n, g...)
	var union []string
	for i, msgs := range got {
		if len(msgs) == 0 {
			t.Errorf("member g%d got nothing: %v", i, got)
		}
		union = append(union, msgs...)
	}
	slices.Sort(union)
	if len(slices.Compact(union)) != n {
		t.Errorf("group g got %d distinct of %d: %v", len(slices.Compact(union)), n, got)
	}
	if hg := drainShared(t, n, h); len(hg[0]) != n {
		t.Errorf("group h got %v", hg)
	}
	if ag := drainShared(t, n, all); len(ag[0]) != n {
		t.Errorf("normal subscriber got %v", ag)
	}
	for _, m := range append(g, h, all) {
		m.none(t) // nothing twice, and no retained message for the shared ones
	}
	// Round robin among connected members: 10 each.
	for i, msgs := range got {
		if len(msgs) != n/3 {
			t.Errorf("member g%d got %d messages, want %d: %v", i, len(msgs), n/3, got)
		}
	}
}

// The QoS 1 messages a member has not acknowledged when its connection
// breaks go to another member; the others it did acknowledge do not.
func TestBroker_V5_sharedHandOn(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	a, _ := connectRaw5(t, addr, "a", nil)
	a.send5(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "$share/g/t", QoS: 1}}})
	a.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{1}})
	other := connectV5(t, addr, "other", nil)
	other.sub(t, paho5c.SubscribeOptions{Topic: "$share/g/t", QoS: 1})
	pub := connectV5(t, addr, "pub", nil)
	const n = 6
	for i := range n {
		pub.pub(t, &paho5c.Publish{Topic: "t", QoS: 1, Payload: fmt.Appendf(nil, "m%d", i)})
	}
	// a gets every other message: it acknowledges the first only.
	var kept []string
	for i := range n / 2 {
		p := a.publish()
		if i == 0 {
			a.send5(&packet.Puback{PacketID: p.PacketID})
			continue
		}
		kept = append(kept, string(p.Payload))
	}
	fromOther := drainShared(t, n/2, other)[0]
	_ = a.conn.Close()
	handed := drainShared(t, len(kept), other)[0]
	if !slices.Equal(handed, kept) {
		t.Errorf("handed on %v, want a's unacknowledged %v (other had %v)", handed, kept, fromOther)
	}
	other.none(t)
	if got := b.stats.sharedHandedOn.Load(); got != uint64(len(kept)) {
		t.Errorf("handed on counter %d, want %d", got, len(kept))
	}
}

// Shared subscriptions the broker refuses: No Local on one is a protocol
// error, DISCONNECT 0x82 [MQTT-3.8.3-4]; a share name that is empty or
// holds a wildcard, or no filter, is 0x8F. Bytes on the wire, since
// clients refuse to send them.
func TestBroker_V5_sharedProtocolErrors(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	c, _ := connectRaw5(t, addr, "bad", nil)
	c.send5(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{
		{Filter: "$share//a"}, {Filter: "$share/g+/a"}, {Filter: "$share/#/a"}, {Filter: "$share/g"}, {Filter: "$share/g/a/#/b"}, {Filter: "$share/g/a", QoS: 2},
	}})
	bad := byte(packet.TopicFilterInvalid)
	c.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{bad, bad, bad, bad, bad, 2}})

	// SUBSCRIBE id 2, no properties, "$share/g/a" with QoS 1 and No Local.
	filter := "$share/g/a"
	body := append([]byte{0, 2, 0, 0, byte(len(filter))}, filter...)
	body = append(body, 0b0000_0101)
	c.sendBytes(append([]byte{0x82, byte(len(body))}, body...))
	c.expectDisconnect(packet.ProtocolError)
}

// A 3.1.1 client may use shared subscriptions too (as with Mosquitto).
func TestBroker_shared311(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	in1 := subscribe(t, paho(t, addr, uniqueID(t, "m1"), true), "$share/g/x/#", 1)
	in2 := subscribe(t, paho(t, addr, uniqueID(t, "m2"), true), "$share/g/x/#", 1)
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	for i := range 4 {
		publish(t, pub, "x/y", 1, false, fmt.Sprint(i))
	}
	for _, in := range []*inbox{in1, in2} {
		for range 2 {
			in.next(t)
		}
		select {
		case m := <-in.ch:
			t.Fatalf("extra message %q", m.Payload())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// A persistent session keeps its shared subscription across a restart
// (its stored record), and the restored member gets the group's messages.
func TestBroker_V5_sharedPersisted(t *testing.T) {
	sessions := newMemStore()
	opts := testOptions(t)
	opts.Sessions = sessions
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serveUntil(t, b)
	persistent := keepSession(3600)
	m := connectV5(t, addr, "member", persistent)
	m.sub(t, paho5c.SubscribeOptions{Topic: "$share/g/p/#", QoS: 1})
	_ = m.Disconnect(&paho5c.Disconnect{})
	<-m.Done()
	waitFor(t, "the member to leave", func() bool { return b.Stats().ClientsConnected == 0 })
	stop()
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}

	b2, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if s := b2.sessions["member"]; s == nil || s.subs["$share/g/p/#"] != 1 {
		t.Fatalf("restored session %+v", s)
	}
	addr2 := serve(t, b2)
	pub := connectV5(t, addr2, "pub", nil)
	pub.pub(t, &paho5c.Publish{Topic: "p/1", QoS: 1, Payload: []byte("while away")})
	m2 := connectV5(t, addr2, "member", persistent)
	if !m2.ack.SessionPresent {
		t.Fatal("session not present")
	}
	if p := m2.next(t); string(p.Payload) != "while away" {
		t.Fatalf("got %q", p.Payload)
	}
	pub.pub(t, &paho5c.Publish{Topic: "p/2", QoS: 1, Payload: []byte("live")})
	if p := m2.next(t); string(p.Payload) != "live" {
		t.Fatalf("got %q", p.Payload)
	}
}

// mosquitto_sub -V 5 on a shared subscription gets the group's messages
// (a topic sent twice too, in case it accepts Topic Aliases).
func TestBroker_V5_sharedMosquittoSub(t *testing.T) {
	tool := mosquittoTool(t, "mosquitto_sub")
	b, addr := startBroker(t, testOptions(t))
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var out strings.Builder
	sub := exec.CommandContext(ctx, tool, "-h", host, "-p", port, "-V", "5", "-t", "$share/g/x/#", "-q", "1", "-v", "-C", "3", "-i", uniqueID(t, "sub"))
	sub.Stdout, sub.Stderr = &out, &out
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "mosquitto_sub to subscribe", func() bool { return b.Stats().Subscriptions == 1 })
	pub := connectV5(t, addr, "pub", nil)
	pub.pub(t, &paho5c.Publish{Topic: "x/1", QoS: 1, Payload: []byte("one")})
	pub.pub(t, &paho5c.Publish{Topic: "x/1", QoS: 1, Payload: []byte("again")})
	pub.pub(t, &paho5c.Publish{Topic: "x/2", QoS: 0, Payload: []byte("two")})
	if err := sub.Wait(); err != nil {
		t.Fatalf("mosquitto_sub: %v\n%s", err, out.String())
	}
	if want := "x/1 one\nx/1 again\nx/2 two\n"; out.String() != want {
		t.Errorf("mosquitto_sub printed %q, want %q", out.String(), want)
	}
}

// The ACL decides on a shared subscription's filter part.
func TestBroker_V5_sharedACL(t *testing.T) {
	opts := testOptions(t)
	opts.Authorizer = denyTopic("secret/#")
	_, addr := startBroker(t, opts)
	c, _ := connectRaw5(t, addr, "acl", nil)
	c.send5(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "$share/g/secret/x"}, {Filter: "$share/secret/ok/x", QoS: 1}}})
	c.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{byte(packet.NotAuthorized), 1}})
}

// With persistent members and a message store, a message handed on from a
// member that dropped is held for the member that took it, and the store
// lets go of every message once they are acknowledged; Stats counts each
// member's subscription.
func TestBroker_V5_sharedHandOnHeld(t *testing.T) {
	sessions, messages := newMemStore(), newMemStore()
	b, addr := runNew(t, heldOptions(t, sessions, messages))
	hour := uint32(3600)
	keep := &packet.Properties{SessionExpiry: &hour}
	a := dialRaw(t, addr)
	a.r.SetVersion(packet.V5)
	a.send5(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 5, ClientID: "a", KeepAlive: 60, Props: keep})
	a.connack()
	a.send5(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "$share/g/h", QoS: 1}}})
	a.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{1}})
	other := connectV5(t, addr, "other", keepSession(hour))
	other.sub(t, paho5c.SubscribeOptions{Topic: "$share/g/h", QoS: 1})
	if n := b.Stats().Subscriptions; n != 2 {
		t.Errorf("Stats().Subscriptions = %d, want 2", n)
	}
	pub := connectV5(t, addr, "pub", nil)
	for i := range 4 {
		pub.pub(t, &paho5c.Publish{Topic: "h", QoS: 1, Payload: fmt.Appendf(nil, "m%d", i)})
	}
	var kept []string
	for range 2 {
		kept = append(kept, string(a.publish().Payload))
	}
	drainShared(t, 2, other)
	_ = a.conn.Close()
	if got := drainShared(t, 2, other)[0]; !slices.Equal(got, kept) {
		t.Fatalf("handed on %v, want %v", got, kept)
	}
	waitFor(t, "the messages to leave the store", func() bool { return len(heldRecords(messages)) == 0 })
}

// A member that also holds a normal subscription to the topic gets both
// copies, each with its own subscription's Subscription Identifier; after
// it unsubscribes from the shared subscription the other member gets every
// message.
func TestBroker_V5_sharedSubIDsAndUnsubscribe(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	m := connectV5(t, addr, "m", nil)
	seven, nine := 7, 9
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, s := range []struct {
		filter string
		id     *int
	}{{"$share/g/s", &seven}, {"s", &nine}} {
		if _, err := m.Subscribe(ctx, &paho5c.Subscribe{Subscriptions: []paho5c.SubscribeOptions{{Topic: s.filter, QoS: 1}},
			Properties: &paho5c.SubscribeProperties{SubscriptionIdentifier: s.id}}); err != nil {
			t.Fatal(err)
		}
	}
	pub := connectV5(t, addr, "pub", nil)
	pub.pub(t, &paho5c.Publish{Topic: "s", QoS: 1, Payload: []byte("x")})
	var ids []int
	for range 2 {
		p := m.next(t)
		if p.Properties == nil || p.Properties.SubscriptionIdentifier == nil {
			t.Fatalf("no subscription identifier: %+v", p.Properties)
		}
		ids = append(ids, *p.Properties.SubscriptionIdentifier)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []int{7, 9}) {
		t.Errorf("subscription identifiers %v, want one copy with 7 and one with 9", ids)
	}
	m.none(t)

	other := connectV5(t, addr, "other", nil)
	other.sub(t, paho5c.SubscribeOptions{Topic: "$share/g/s", QoS: 1})
	if _, err := m.Unsubscribe(ctx, &paho5c.Unsubscribe{Topics: []string{"$share/g/s"}}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		pub.pub(t, &paho5c.Publish{Topic: "s", QoS: 1, Payload: fmt.Appendf(nil, "%d", i)})
	}
	if got := drainShared(t, 4, other)[0]; len(got) != 4 {
		t.Errorf("other member got %v", got)
	}
	for range 4 { // the normal subscription's copies
		if p := m.next(t); *p.Properties.SubscriptionIdentifier != 9 {
			t.Errorf("identifier %d, want 9", *p.Properties.SubscriptionIdentifier)
		}
	}
	m.none(t)
}
