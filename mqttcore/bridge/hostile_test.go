package bridge_test

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// TestBridge_hostileUpstream_logsBounded: an upstream that refuses a
// subscription with 100,000 SUBACK codes and sends 5,000 messages on topics
// no in rule matches costs a few log lines, not one per code or message
// (each is still counted), and the bridge keeps delivering what matches.
func TestBridge_hostileUpstream_logsBounded(t *testing.T) {
	s := newScripted(t)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, s.addr())
	var logs mqtttest.SyncBuffer
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	local := &fakeLocal{}
	o.Local = local
	r := start(t, o)

	c, _ := s.accept()
	c.connack(false)
	var sub *packet.Subscribe
	for sub == nil {
		p, err := c.r.Read()
		if err != nil {
			t.Fatal(err)
		}
		sub, _ = p.(*packet.Subscribe)
	}
	codes := make([]byte, 100_000)
	for i := range codes {
		codes[i] = packet.SubackFailure
	}
	c.write(&packet.Suback{PacketID: sub.PacketID, ReturnCodes: codes})
	const n = 5000
	for i := range n {
		c.write(&packet.Publish{Topic: fmt.Sprintf("other/%d", i), Payload: []byte("x")})
	}
	c.write(&packet.Publish{Topic: "gw/cmd/marker", Payload: []byte("m")})
	mqtttest.WaitFor(t, func() bool { return len(local.got()) == 1 }, "the matching message delivered locally")

	st := r.b.Stats()
	if st.Dropped[bridge.DroppedNoRule] != n || st.SubscribeFailures != uint64(len(codes)) {
		t.Errorf("dropped %d (want %d), subscribe failures %d (want %d)",
			st.Dropped[bridge.DroppedNoRule], n, st.SubscribeFailures, len(codes))
	}
	out := logs.String()
	for _, msg := range []string{"matches no in rule", "refused subscription"} {
		if got := strings.Count(out, msg); got < 1 || got > 2 {
			t.Errorf("%q logged %d times, want once or twice (rate-limited)", msg, got)
		}
	}
}

// TestBridge_hostileUpstream_pubcompBeforePubrec: a PUBCOMP for a QoS 2
// message whose PUBREC never came does not complete it: the message stays
// queued and is published again (DUP) on the next connection.
func TestBridge_hostileUpstream_pubcompBeforePubrec(t *testing.T) {
	s, r, q, c1 := startOutOnly(t, nil)
	if err := publish(t, r.b, "c", "sensors/r", "x", 2); err != nil {
		t.Fatal(err)
	}
	p := c1.readPublish()
	c1.write(&packet.Pubcomp{PacketID: p.PacketID})
	c1.nc.Close() // the bridge reads the PUBCOMP before the end of the stream
	c2, _ := s.accept()
	c2.connack(true)
	if again := c2.readPublish(); !again.Dup || again.PacketID != p.PacketID || string(again.Payload) != "x" {
		t.Fatalf("after reconnect: %s, want the message again with DUP", show(again))
	}
	if st := q.Stats(); st.Messages != 1 {
		t.Fatalf("queue %+v after a PUBCOMP without PUBREC, want the message kept", st)
	}
}

// TestBridge_wire_keepAliveDisabled: a negative KeepAlive sends 0 in the
// CONNECT and no PINGREQ ever (bridge.keepalive: 0s).
func TestBridge_wire_keepAliveDisabled(t *testing.T) {
	s := newScripted(t)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, s.addr())
	o.Rules = o.Rules[:1] // out only: nothing to subscribe
	o.KeepAlive = -1
	r := start(t, o)
	c, connect := s.accept()
	if connect.KeepAlive != 0 {
		t.Errorf("CONNECT keepalive %d, want 0", connect.KeepAlive)
	}
	c.connack(false)
	r.awaitConnection(t)
	c.nc.SetReadDeadline(time.Now().Add(2500 * time.Millisecond))
	if p, err := c.r.Read(); err == nil {
		t.Fatalf("the bridge sent %s with keepalive disabled", show(p))
	}
	if !r.b.Stats().Connected {
		t.Error("the bridge dropped a quiet uplink with keepalive disabled")
	}
}

// TestBridge_wire_pubrelOrder: PUBRELs go out in the order of the PUBRECs
// [MQTT-4.6.0-3], although each PUBREC is persisted first; Mosquitto
// delivers QoS 2 messages in PUBREL order.
func TestBridge_wire_pubrelOrder(t *testing.T) {
	_, r, _, c := startOutOnly(t, nil)
	const n = 40 // twice the window: PUBRECs go out as PUBLISHes arrive
	publishSeq(t, r.b, "sensors/r", 0, n, 2)
	var recs, rels []uint16
	for len(rels) < n {
		switch p := c.read().(type) {
		case *packet.Publish:
			recs = append(recs, p.PacketID)
			c.write(&packet.Pubrec{PacketID: p.PacketID})
		case *packet.Pubrel:
			rels = append(rels, p.PacketID)
			c.write(&packet.Pubcomp{PacketID: p.PacketID})
		default:
			t.Fatalf("unexpected %s", show(p))
		}
	}
	if !slices.Equal(rels, recs) {
		t.Fatalf("PUBRELs in order %v, PUBRECs were sent in order %v", rels, recs)
	}
}

// startOutOnly starts a bridge with only the QoS 2 out rule (no SUBSCRIBE in
// the way) against a scripted server, with mod applied to its options, and
// returns the server, the bridge, its queue and the accepted connection.
func startOutOnly(t *testing.T, mod func(*bridge.Options)) (*scripted, *runner, *offline.Queue, *serverConn) {
	t.Helper()
	s := newScripted(t)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, s.addr())
	o.Rules = o.Rules[:1]
	if mod != nil {
		mod(&o)
	}
	r := start(t, o)
	c, _ := s.accept()
	c.connack(false)
	r.awaitConnection(t)
	return s, r, q, c
}
