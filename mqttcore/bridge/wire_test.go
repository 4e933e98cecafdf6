package bridge_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// TestBridge_wire_connect: the CONNECT carries the client id, credentials,
// a persistent session, the keepalive in whole seconds (rounded up) and the
// offline status as a retained QoS 1 will; after the CONNACK the bridge
// publishes the online status and subscribes to the in rules' remote filters.
func TestBridge_wire_connect(t *testing.T) {
	s := newScripted(t)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, s.addr())
	o.Username, o.Password = "gw", "secret"
	o.KeepAlive = 1500 * time.Millisecond
	o.Monitor = bridge.Monitor{TopicPrefix: "gateways/w", MetricsInterval: -1}
	start(t, o)

	c, connect := s.accept()
	if connect.ClientID != o.ClientID || connect.CleanSession || connect.KeepAlive != 2 ||
		connect.ProtocolName != "MQTT" || connect.ProtocolLevel != 4 {
		t.Errorf("CONNECT = %+v", connect)
	}
	if !connect.UsernameFlag || connect.Username != "gw" || !connect.PasswordFlag || string(connect.Password) != "secret" {
		t.Errorf("credentials: %+v", connect)
	}
	var will map[string]any
	if err := json.Unmarshal(connect.WillMessage, &will); err != nil || will["state"] != "offline" {
		t.Errorf("will payload %q: %v", connect.WillMessage, err)
	}
	if !connect.WillFlag || connect.WillTopic != "gateways/w/status" || connect.WillQoS != 1 || !connect.WillRetain {
		t.Errorf("will: %+v", connect)
	}
	c.connack(false)
	st := c.readPublish()
	if st.Topic != "gateways/w/status" || st.QoS != 1 || !st.Retain || st.PacketID <= 65000 {
		t.Errorf("status publish %s, want QoS 1 retained with a control packet id", show(st))
	}
	c.write(&packet.Puback{PacketID: st.PacketID})
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	p, err := c.r.Read() // the status comes first, then the SUBSCRIBE
	sub, ok := p.(*packet.Subscribe)
	if err != nil || !ok {
		t.Fatalf("after the status: %v %s, want SUBSCRIBE", err, show(p))
	}
	if len(sub.Subscriptions) != 1 || sub.Subscriptions[0].Filter != "gw/cmd/#" || sub.Subscriptions[0].QoS != 2 || sub.PacketID <= 65000 {
		t.Errorf("SUBSCRIBE %+v, want gw/cmd/# at QoS 2 with a control packet id", sub)
	}
}

// TestBridge_wire_resend: after a reconnection the unacknowledged messages
// are sent again first, in order, with DUP set and the same packet ids; a
// QoS 2 message whose PUBREC arrived continues with PUBREL, not PUBLISH.
func TestBridge_wire_resend(t *testing.T) {
	s := newScripted(t)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, s.addr())
	o.Rules = o.Rules[:1] // out only: no SUBSCRIBE in the way
	r := start(t, o)
	c1, _ := s.accept()
	c1.connack(false)
	r.awaitConnection(t)
	for i, qos := range []byte{1, 1, 1, 2} {
		if err := publish(t, r.b, "c", "sensors/r", string(rune('0'+i)), qos); err != nil {
			t.Fatal(err)
		}
	}
	var ids []uint16
	for i := 0; i < 4; i++ {
		p := c1.readPublish()
		if p.Dup || string(p.Payload) != string(rune('0'+i)) || p.PacketID == 0 || p.PacketID > 65000 {
			t.Fatalf("first send %d: %s", i, show(p))
		}
		ids = append(ids, p.PacketID)
	}
	c1.nc.Close()

	c2, _ := s.accept()
	c2.connack(true)
	for i := 0; i < 4; i++ {
		p := c2.readPublish()
		if !p.Dup || p.PacketID != ids[i] || string(p.Payload) != string(rune('0'+i)) {
			t.Fatalf("re-send %d: %s, want DUP with id %d", i, show(p), ids[i])
		}
	}
	c2.write(&packet.Puback{PacketID: ids[0]})
	c2.write(&packet.Puback{PacketID: ids[1]})
	c2.write(&packet.Pubrec{PacketID: ids[3]})
	if rel := c2.readPubrel(); rel.PacketID != ids[3] {
		t.Fatalf("PUBREL id %d, want %d", rel.PacketID, ids[3])
	}
	c2.nc.Close()

	c3, _ := s.accept()
	c3.connack(true)
	if p := c3.readPublish(); !p.Dup || p.PacketID != ids[2] {
		t.Fatalf("third connection first packet %s, want DUP PUBLISH id %d", show(p), ids[2])
	}
	if rel := c3.readPubrel(); rel.PacketID != ids[3] {
		t.Fatalf("PUBREL id %d, want %d", rel.PacketID, ids[3])
	}
	c3.write(&packet.Puback{PacketID: ids[2]})
	c3.write(&packet.Pubcomp{PacketID: ids[3]})
	waitDrained(t, q)
	if st := r.b.Stats(); st.Forwarded != 4 || st.Inflight != 0 || st.Reconnects != 2 {
		t.Errorf("stats %s", describe(st))
	}
}

// TestBridge_wire_restartQoS2: a bridge restarted after a persisted PUBREC
// sends PUBREL with the packet id of the original PUBLISH when the upstream
// kept the session, and publishes again (same id, DUP) when it did not.
func TestBridge_wire_restartQoS2(t *testing.T) {
	for _, present := range []bool{true, false} {
		name := map[bool]string{true: "session present", false: "session lost"}[present]
		t.Run(name, func(t *testing.T) {
			s := newScripted(t)
			dir := t.TempDir()
			db, q := openQueue(t, dir, offline.QueueOptions{})
			o := options(t, q, s.addr())
			o.Rules = o.Rules[:1]
			o.ShutdownTimeout = 100 * time.Millisecond
			r := start(t, o)
			c1, _ := s.accept()
			c1.connack(false)
			if err := publish(t, r.b, "c", "sensors/q2", "x", 2); err != nil {
				t.Fatal(err)
			}
			p := c1.readPublish()
			c1.write(&packet.Pubrec{PacketID: p.PacketID})
			c1.readPubrel() // sent only after the PUBREC was persisted
			r.stop(t)
			db.Close()

			_, q2 := openQueue(t, dir, offline.QueueOptions{})
			o2 := options(t, q2, s.addr())
			o2.Rules = o.Rules
			start(t, o2)
			c2, _ := s.accept()
			c2.connack(present)
			if present {
				if rel := c2.readPubrel(); rel.PacketID != p.PacketID {
					t.Fatalf("PUBREL id %d after restart, want the original %d", rel.PacketID, p.PacketID)
				}
			} else {
				again := c2.readPublish()
				if again.PacketID != p.PacketID || !again.Dup || again.QoS != 2 {
					t.Fatalf("after restart without session: %s, want DUP PUBLISH id %d", show(again), p.PacketID)
				}
				c2.write(&packet.Pubrec{PacketID: p.PacketID})
				c2.readPubrel()
			}
			c2.write(&packet.Pubcomp{PacketID: p.PacketID})
			waitDrained(t, q2)
		})
	}
}

// TestBridge_wire_inbound: messages from the upstream are published locally
// and acknowledged; a QoS 2 PUBLISH re-sent before PUBREL is acknowledged
// again but delivered once; a topic outside the in rules is acknowledged,
// dropped and counted.
func TestBridge_wire_inbound(t *testing.T) {
	s := newScripted(t)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, s.addr())
	local := o.Local.(*fakeLocal)
	r := start(t, o)
	c, _ := s.accept()
	c.connack(false)

	c.write(&packet.Publish{QoS: 1, PacketID: 10, Topic: "gw/cmd/a", Payload: []byte("one")})
	if p, ok := c.read().(*packet.Puback); !ok || p.PacketID != 10 {
		t.Fatalf("want PUBACK 10, got %T %+v", p, p)
	}
	qos2 := &packet.Publish{QoS: 2, PacketID: 9, Topic: "gw/cmd/b", Payload: []byte("two")}
	c.write(qos2)
	expectPubrec(t, c, 9)
	dup := *qos2
	dup.Dup = true
	c.write(&dup)
	expectPubrec(t, c, 9)
	c.write(&packet.Pubrel{PacketID: 9})
	if p, ok := c.read().(*packet.Pubcomp); !ok || p.PacketID != 9 {
		t.Fatalf("want PUBCOMP 9, got %T %+v", p, p)
	}
	c.write(qos2) // a new message reusing the released id
	expectPubrec(t, c, 9)
	c.write(&packet.Publish{QoS: 1, PacketID: 11, Topic: "gw/elsewhere", Payload: []byte("?")})
	if p, ok := c.read().(*packet.Puback); !ok || p.PacketID != 11 {
		t.Fatalf("want PUBACK 11, got %T %+v", p, p)
	}

	got := local.got()
	if len(got) != 3 || got[0].p.Topic != "cmd/a" || got[1].p.Topic != "cmd/b" || got[2].p.Topic != "cmd/b" ||
		got[1].p.QoS != 2 || got[0].origin != "$bridge" {
		t.Fatalf("local got %+v, want cmd/a once and cmd/b twice (before and after release)", got)
	}
	if st := r.b.Stats(); st.Dropped[bridge.DroppedNoRule] != 1 || st.Received != 3 {
		t.Errorf("stats %s", describe(st))
	}
}

func expectPubrec(t *testing.T, c *serverConn, id uint16) {
	t.Helper()
	if p, ok := c.read().(*packet.Pubrec); !ok || p.PacketID != id {
		t.Fatalf("want PUBREC %d, got %T %+v", id, p, p)
	}
}

// TestBridge_wire_keepalive: an idle bridge sends PINGREQ; when the server
// stops answering, the bridge drops the connection (ErrKeepAlive) and
// connects again.
func TestBridge_wire_keepalive(t *testing.T) {
	s := newScripted(t)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, s.addr())
	o.Rules = o.Rules[:1]
	r := start(t, o)
	c, _ := s.accept()
	c.connack(false)
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if p, err := c.r.Read(); err != nil {
		t.Fatalf("read: %v", err)
	} else if _, ok := p.(*packet.Pingreq); !ok {
		t.Fatalf("idle bridge sent %s, want PINGREQ", show(p))
	}
	c.expectClosed() // no PINGRESP: the bridge gives up
	c2, _ := s.accept()
	c2.connack(false)
	r.awaitConnection(t)
	if err := r.b.Stats().LastDisconnect; !errors.Is(err, bridge.ErrKeepAlive) {
		t.Errorf("LastDisconnect = %v, want ErrKeepAlive", err)
	}
}
