package broker

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

func TestBroker_connect_sessionPresent(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	id := uniqueID(t, "c")
	steps := []struct {
		name        string
		clean       bool
		wantPresent bool
	}{
		{"first persistent connect has no session", false, false}, // [MQTT-3.2.2-3]
		{"persistent reconnect resumes the session", false, true}, // [MQTT-3.2.2-2]
		{"clean connect discards it", true, false},                // [MQTT-3.2.2-1]
		{"persistent after clean starts afresh", false, false},    // [MQTT-3.1.2-6]
		{"and is resumed again", false, true},                     // [MQTT-3.2.2-2]
	}
	for _, st := range steps {
		c, tok := pahoConnect(t, addr, id, st.clean)
		done(t, tok, st.name)
		if got := tok.SessionPresent(); got != st.wantPresent {
			t.Errorf("%s: session present = %v, want %v", st.name, got, st.wantPresent)
		}
		c.Disconnect(0)
	}
}

func TestBroker_connect_clientID(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	t.Run("empty id with clean session gets one assigned", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, CleanSession: true})
		c.expectPacket(&packet.Connack{ReturnCode: packet.Accepted}) // [MQTT-3.1.3-6]
		c.subscribe(1, "x/#", 0)
		var assigned string
		b.mu.Lock()
		for id := range b.sessions {
			if strings.HasPrefix(id, "auto-") {
				assigned = id
			}
		}
		b.mu.Unlock()
		if assigned == "" {
			t.Fatal("no session with an assigned id")
		}
	})
	t.Run("empty id without clean session is refused", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4})
		c.expectPacket(&packet.Connack{ReturnCode: packet.RefusedIdentifierRejected}) // [MQTT-3.1.3-8]
		c.expectClosed()
	})
}

func TestBroker_connect_refusals(t *testing.T) {
	_, addr := startBroker(t, Options{AllowAnonymous: true, Logger: testLogger(t), SysInterval: -1, ConnectTimeout: 300 * time.Millisecond})
	tests := []struct {
		name     string
		send     [][]byte
		wantCode *packet.ConnackCode // nil: closed without CONNACK
	}{
		{
			name:     "protocol level 6 gets CONNACK 0x01", // [MQTT-3.1.2-2]
			send:     [][]byte{{0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x3c, 0x00, 0x01, 'x'}},
			wantCode: ptr(packet.RefusedProtocolVersion),
		},
		{
			name: "first packet PINGREQ", // [MQTT-3.1.0-1]
			send: [][]byte{{0xc0, 0x00}},
		},
		{
			name: "first packet SUBSCRIBE", // [MQTT-3.1.0-1]
			send: [][]byte{encode(t, &packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "a"}}})},
		},
		{
			name: "unknown protocol name", // [MQTT-3.1.2-1]
			send: [][]byte{{0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'X', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 'a'}},
		},
		{
			name: "reserved connect flag", // [MQTT-3.1.2-3]
			send: [][]byte{{0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x03, 0x00, 0x3c, 0x00, 0x01, 'a'}},
		},
		{
			name: "nothing sent: connect timeout",
		},
		{
			name: "half a CONNECT: connect timeout",
			send: [][]byte{{0x10, 0x0d, 0x00, 0x04, 'M', 'Q'}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, addr)
			for _, b := range tt.send {
				c.sendBytes(b)
			}
			if tt.wantCode != nil {
				c.expectPacket(&packet.Connack{ReturnCode: *tt.wantCode})
			}
			c.expectClosed()
		})
	}
	checkBrokerWorks(t, addr)
}

func TestBroker_connect_secondConnect(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	c, _ := connectRaw(t, addr, uniqueID(t, "c"), true)
	c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: "again", CleanSession: true})
	c.expectClosed() // [MQTT-3.1.0-2]
	checkBrokerWorks(t, addr)
}

func TestBroker_connect_takeover(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	id := uniqueID(t, "c")
	var lost atomic.Bool
	first := paho(t, addr, id, false, func(o *mqtt.ClientOptions) {
		o.SetConnectionLostHandler(func(mqtt.Client, error) { lost.Store(true) })
	})
	in := subscribe(t, first, "takeover/#", 1)
	second := paho(t, addr, id, false)
	waitFor(t, "the first connection to be closed", func() bool { return lost.Load() }) // [MQTT-3.1.4-2]
	if !first.IsConnected() && second.IsConnected() {
		// The persistent session, with its subscription, now serves the
		// second connection.
		in2 := newInbox()
		second.AddRoute("takeover/#", in2.handle)
		publish(t, paho(t, addr, uniqueID(t, "pub"), true), "takeover/x", 1, false, "hello")
		in2.expect(t, "takeover/x", "hello")
	} else {
		t.Fatalf("first connected %v, second connected %v", first.IsConnected(), second.IsConnected())
	}
	select {
	case m := <-in.ch:
		t.Fatalf("the taken-over connection got %s", m.Topic())
	default:
	}
}

func TestBroker_connect_maxConnections(t *testing.T) {
	b, addr := startBroker(t, Options{AllowAnonymous: true, Logger: testLogger(t), SysInterval: -1, MaxConnections: 2})
	c1, _ := connectRaw(t, addr, uniqueID(t, "1"), true)
	connectRaw(t, addr, uniqueID(t, "2"), true)
	c3 := dialRaw(t, addr)
	c3.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: uniqueID(t, "3"), CleanSession: true})
	c3.expectPacket(&packet.Connack{ReturnCode: packet.RefusedServerUnavailable})
	c3.expectClosed()
	c1.send(&packet.Disconnect{})
	c1.expectClosed()
	waitFor(t, "the first connection to be gone", func() bool { return b.Stats().Connections == 1 })
	connectRaw(t, addr, uniqueID(t, "4"), true)
	if got := b.Stats().ConnectionsRefused; got != 1 {
		t.Errorf("ConnectionsRefused = %d, want 1", got)
	}
}

// checkBrokerWorks proves the broker still serves other clients: a fresh
// Paho subscriber gets a fresh Paho publisher's message.
func checkBrokerWorks(t *testing.T, addr string) {
	t.Helper()
	sub := paho(t, addr, uniqueID(t, "check-sub"), true)
	in := subscribe(t, sub, "check/+", 1)
	pub := paho(t, addr, uniqueID(t, "check-pub"), true)
	publish(t, pub, "check/works", 1, false, "yes")
	in.expect(t, "check/works", "yes")
}

func encode(t *testing.T, p packet.Packet) []byte {
	t.Helper()
	b, err := packet.Append(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// Two connections resuming one persistent session at the same instant:
// the later attach disconnects the earlier one [MQTT-3.1.4-2].
func TestSess_attach_kicksEarlierConnection(t *testing.T) {
	b, err := New(testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	s := newSess(b, "twin", "", false)
	var clients [2]*client
	for i := range clients {
		server, peer := net.Pipe()
		t.Cleanup(func() { _ = peer.Close() })
		go func() { _, _ = io.Copy(io.Discard, peer) }()
		clients[i] = &client{b: b, conn: server, id: "twin"}
		s.attach(clients[i], true)
	}
	if !clients[0].closed.Load() || !clients[0].kicked.Load() || clients[0].willOnKick.Load() {
		t.Error("the earlier connection was not kicked (without its will)")
	}
	if s.conn.Load() != clients[1] || clients[1].closed.Load() {
		t.Error("the later connection is not the attached one")
	}
	for _, c := range clients {
		c.abort(nil)
		c.wg.Wait()
	}
}

// MQTT 3.1 clients (protocol name MQIsdp, level 3) are served too.
func TestBroker_connect_mqtt31(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	c := paho(t, addr, uniqueID(t, "v31"), true, func(o *mqtt.ClientOptions) { o.SetProtocolVersion(3) })
	in := subscribe(t, c, "v31/#", 1)
	publish(t, c, "v31/x", 1, false, "old protocol")
	in.expect(t, "v31/x", "old protocol")
}

// Smaller items of issue 9: a network client cannot take an in-process
// origin's name ("$bridge", whose messages the bridge does not forward;
// "$sensors", acknowledged before they are durable), nor an identifier
// too long to be stored as a key.
func TestBroker_connect_reservedClientIDs(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	for _, id := range []string{"$bridge", "$sensors", "$", strings.Repeat("x", MaxClientIDLength+1)} {
		c := dialRaw(t, addr)
		c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: id, CleanSession: true})
		c.expectPacket(&packet.Connack{ReturnCode: packet.RefusedIdentifierRejected}) // [MQTT-3.1.3-9]
		c.expectClosed()
	}
	connectRaw(t, addr, "a$b", true)
	connectRaw(t, addr, strings.Repeat("x", MaxClientIDLength), true)
}

// slowAuth accepts everyone after a delay, as bcrypt does.
type slowAuth struct{ d time.Duration }

func (a slowAuth) Authenticate(string, []byte, bool, bool) packet.ConnackCode {
	time.Sleep(a.d)
	return packet.Accepted
}

// TestBroker_connect_maxConnectionsConcurrent: CONNECTs that arrive while
// others are still authenticating cannot together exceed MaxConnections
// (each passed the check before any was counted: 20 got in under a limit
// of 5).
func TestBroker_connect_maxConnectionsConcurrent(t *testing.T) {
	b, addr := startBroker(t, Options{AllowAnonymous: true, Logger: testLogger(t), SysInterval: -1,
		MaxConnections: 5, Authenticator: slowAuth{200 * time.Millisecond}})
	const n = 20
	codes := make(chan packet.ConnackCode, n)
	for i := range n {
		go func() {
			c := dialRaw(t, addr)
			c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: uniqueID(t, fmt.Sprint(i)), CleanSession: true})
			p, err := c.readErr()
			if ack, ok := p.(*packet.Connack); err == nil && ok {
				codes <- ack.ReturnCode
				return
			}
			codes <- 0xff
		}()
	}
	accepted := 0
	for range n {
		if <-codes == packet.Accepted {
			accepted++
		}
	}
	if accepted != 5 || b.Stats().Connections != 5 {
		t.Errorf("%d accepted, %d connected, with MaxConnections 5", accepted, b.Stats().Connections)
	}
}
