package bridge_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho5 "github.com/eclipse/paho.golang/paho"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// v5Sub is a paho.golang MQTT 5.0 client on the upstream recording what it
// receives, properties included.
type v5Sub struct {
	c    *paho5.Client
	mu   sync.Mutex
	msgs []*paho5.Publish
}

// subscribeV5 connects a paho.golang client to addr as id and subscribes
// to filter at QoS 2 (no subscription when filter is "").
func subscribeV5(t *testing.T, addr, id, filter string) *v5Sub {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &v5Sub{}
	s.c = paho5.NewClient(paho5.ClientConfig{Conn: nc, OnPublishReceived: []func(paho5.PublishReceived) (bool, error){
		func(pr paho5.PublishReceived) (bool, error) {
			s.mu.Lock()
			s.msgs = append(s.msgs, pr.Packet)
			s.mu.Unlock()
			return true, nil
		},
	}})
	ctx, cancel := context.WithTimeout(context.Background(), mqtttest.DefaultWait)
	defer cancel()
	if _, err := s.c.Connect(ctx, &paho5.Connect{ClientID: id, CleanStart: true, KeepAlive: 30}); err != nil {
		_ = nc.Close()
		t.Fatalf("paho.golang connect: %v", err)
	}
	t.Cleanup(func() {
		_ = s.c.Disconnect(&paho5.Disconnect{})
		select {
		case <-s.c.Done():
		case <-time.After(mqtttest.DefaultWait):
		}
	})
	if filter != "" {
		if _, err := s.c.Subscribe(ctx, &paho5.Subscribe{Subscriptions: []paho5.SubscribeOptions{{Topic: filter, QoS: 2}}}); err != nil {
			t.Fatalf("paho.golang subscribe: %v", err)
		}
	}
	return s
}

// on returns the messages received on topic.
func (s *v5Sub) on(topic string) []*paho5.Publish {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*paho5.Publish
	for _, m := range s.msgs {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// awaitOn waits for n messages on topic and returns them.
func (s *v5Sub) awaitOn(t *testing.T, topic string, n int) []*paho5.Publish {
	t.Helper()
	mqtttest.WaitFor(t, func() bool { return len(s.on(topic)) >= n }, "%s", topic)
	return s.on(topic)
}

// v5Options are options(t, …) speaking MQTT 5.0.
func v5Options(t *testing.T, q bridge.Queue, addr string) bridge.Options {
	o := options(t, q, "tcp://"+addr)
	o.Protocol = packet.V5
	return o
}

// publishProps hands a message with MQTT 5.0 properties to the bridge as the
// local broker would and waits for done.
func publishProps(t *testing.T, b *bridge.Bridge, topic, payload string, qos byte, props *packet.Properties) {
	t.Helper()
	errc := make(chan error, 1)
	b.OnPublish("c5", &packet.Publish{QoS: qos, Topic: topic, Payload: []byte(payload), Props: props}, func(err error) { errc <- err })
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(mqtttest.DefaultWait):
		t.Fatalf("done not called for %s", topic)
	}
}

// TestBridge_V5_properties: over MQTT 5.0 to Mosquitto, a local MQTT 5.0
// publisher's user properties, content type, payload format, response
// topic and correlation data reach a paho.golang subscriber on the
// upstream, at QoS 0, 1 and 2 and after waiting in the queue through an
// outage (so they are stored with the entry); a queued message carries
// the TTL left as Message Expiry Interval, the shorter of the queue's TTL
// and the publisher's own.
func TestBridge_V5_properties(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := subscribeV5(t, addr, "v5sub", "gw/#")
	proxy := mqtttest.NewProxy(t, addr)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := v5Options(t, q, proxy.Addr())
	o.MessageTTL = time.Hour
	r := start(t, o)
	r.awaitConnection(t)

	props := func(i int) *packet.Properties {
		return &packet.Properties{
			PayloadFormat: 1, ContentType: "application/json", ResponseTopic: "reply/" + strconv.Itoa(i),
			CorrelationData: []byte{byte(i), 0xff},
			User:            []packet.UserProperty{{Key: "site", Value: "kitchen"}, {Key: "n", Value: strconv.Itoa(i)}},
		}
	}
	for qos := byte(0); qos <= 2; qos++ {
		publishProps(t, r.b, "sensors/p"+strconv.Itoa(int(qos)), `{"v":1}`, qos, props(int(qos)))
	}
	own := props(7)
	own.MessageExpiry = 60
	publishProps(t, r.b, "sensors/own", "x", 1, own)

	// Through an outage: stored with the entry, sent on reconnection.
	proxy.SetMode(mqtttest.Reset)
	mqtttest.WaitFor(t, func() bool { return !r.b.Stats().Connected }, "uplink down")
	publishProps(t, r.b, "sensors/queued", "q", 1, props(9))
	proxy.SetMode(mqtttest.Pass)

	check := func(topic string, i int, wantQoS byte) *paho5.Publish {
		t.Helper()
		m := sub.awaitOn(t, "gw/"+topic, 1)[0]
		p := m.Properties
		if m.QoS != wantQoS || p == nil || p.ContentType != "application/json" || p.PayloadFormat == nil || *p.PayloadFormat != 1 ||
			p.ResponseTopic != "reply/"+strconv.Itoa(i) || string(p.CorrelationData) != string([]byte{byte(i), 0xff}) {
			t.Fatalf("%s upstream: QoS %d, properties %+v", topic, m.QoS, p)
		}
		if len(p.User) != 2 || p.User.Get("site") != "kitchen" || p.User.Get("n") != strconv.Itoa(i) {
			t.Errorf("%s upstream: user properties %+v", topic, p.User)
		}
		return m
	}
	for qos := byte(0); qos <= 2; qos++ {
		m := check("sensors/p"+strconv.Itoa(int(qos)), int(qos), qos)
		if qos > 0 && (m.Properties.MessageExpiry == nil || *m.Properties.MessageExpiry < 3590 || *m.Properties.MessageExpiry > 3600) {
			t.Errorf("QoS %d: message expiry %v, want the hour's TTL left", qos, m.Properties.MessageExpiry)
		}
	}
	if m := check("sensors/own", 7, 1); m.Properties.MessageExpiry == nil || *m.Properties.MessageExpiry > 60 || *m.Properties.MessageExpiry < 55 {
		t.Errorf("publisher's own expiry 60 s: upstream says %v", m.Properties.MessageExpiry)
	}
	if m := check("sensors/queued", 9, 1); m.Properties.MessageExpiry == nil || *m.Properties.MessageExpiry > 3600 {
		t.Errorf("queued message: expiry %v", m.Properties.MessageExpiry)
	}
	waitDrained(t, q)
}

// TestBridge_V5_inbound: a message an MQTT 5.0 client publishes on the
// upstream reaches the local broker with its properties.
func TestBridge_V5_inbound(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := v5Options(t, q, addr)
	local := o.Local.(*fakeLocal)
	r := start(t, o)
	r.awaitConnection(t)
	mqtttest.WaitFor(t, func() bool { return r.b.Stats().Connected }, "connected")
	pub := subscribeV5(t, addr, "v5pub", "")
	ctx, cancel := context.WithTimeout(context.Background(), mqtttest.DefaultWait)
	defer cancel()
	// The bridge's SUBSCRIBE may still be on its way: publish until one arrives.
	mqtttest.WaitFor(t, func() bool {
		_, err := pub.c.Publish(ctx, &paho5.Publish{Topic: "gw/cmd/light", QoS: 1, Payload: []byte("on"), Properties: &paho5.PublishProperties{
			ContentType: "text/plain", User: paho5.UserProperties{{Key: "from", Value: "cloud"}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return len(local.got()) > 0
	}, "command delivered locally")
	m := local.got()[0]
	if m.p.Topic != "cmd/light" || m.p.Props == nil || m.p.Props.ContentType != "text/plain" ||
		len(m.p.Props.User) != 1 || m.p.Props.User[0] != (packet.UserProperty{Key: "from", Value: "cloud"}) {
		t.Fatalf("local message %s, properties %+v", m.p.Topic, m.p.Props)
	}
}

// TestBridge_V5_receiveMaximum: Mosquitto's max_inflight_messages 5 is the
// Receive Maximum of its CONNACK; with Inflight 20, no more than 5 (4 with
// monitoring, which keeps one for the status message) are ever in flight,
// counted on the bridge's window during a burst of 2,000 messages; all
// arrive, in order.
func TestBridge_V5_receiveMaximum(t *testing.T) {
	for _, tc := range []struct {
		name    string
		monitor string
		want    int
	}{{"no monitor", "", 5}, {"monitor", "gateways/rm", 4}} {
		t.Run(tc.name, func(t *testing.T) {
			addr := mqtttest.StartMosquitto(t, "max_inflight_messages 5\n")
			sub := mqtttest.Subscribe(t, addr, "gw/#")
			proxy := mqtttest.NewProxy(t, addr)
			proxy.SetDelay(time.Millisecond) // acknowledgements take a while: the window fills
			proxy.SetMode(mqtttest.Slow)
			_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
			o := v5Options(t, q, proxy.Addr())
			o.Inflight = 20
			o.Monitor.TopicPrefix = tc.monitor
			r := start(t, o)
			r.awaitConnection(t)

			const n = 2000
			stop := make(chan struct{})
			peak := make(chan int)
			go func() {
				most := 0
				for {
					select {
					case <-stop:
						peak <- most
						return
					default:
					}
					most = max(most, r.b.Stats().Inflight)
					time.Sleep(50 * time.Microsecond)
				}
			}()
			publishSeq(t, r.b, "sensors/burst", 0, n, 1)
			if dups := waitSequence(t, sub, "gw/sensors/burst", n); dups != 0 {
				t.Errorf("%d duplicates", dups)
			}
			close(stop)
			most := <-peak
			t.Logf("peak inflight %d (Inflight 20, Receive Maximum 5)", most)
			if most > tc.want {
				t.Errorf("peak inflight %d, want at most %d", most, tc.want)
			}
			if most < 2 {
				t.Errorf("peak inflight %d: the window never filled, the test proves nothing", most)
			}
		})
	}
}

// TestBridge_V5_maximumPacketSize: Mosquitto's max_packet_size is the
// Maximum Packet Size of its CONNACK: a queued message larger than it is
// dropped and counted as too_large, not sent (Mosquitto would close the
// connection, again on every re-send); the messages around it arrive.
func TestBridge_V5_maximumPacketSize(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "max_packet_size 1000\n")
	sub := subscribeV5(t, addr, "v5sub", "gw/#")
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	r := start(t, v5Options(t, q, addr))
	r.awaitConnection(t)
	publishProps(t, r.b, "sensors/a", "small", 1, nil)
	publishProps(t, r.b, "sensors/big", strings.Repeat("x", 2000), 1, nil)
	publishProps(t, r.b, "sensors/big0", strings.Repeat("x", 2000), 0, nil)
	publishProps(t, r.b, "sensors/b", "small", 1, nil)
	sub.awaitOn(t, "gw/sensors/b", 1)
	waitDrained(t, q)
	st := r.b.Stats()
	if got := st.Dropped[bridge.DroppedTooLarge]; got != 2 {
		t.Errorf("dropped too_large = %d, want 2 (stats %s)", got, describe(st))
	}
	if len(sub.on("gw/sensors/big")) != 0 || len(sub.on("gw/sensors/a")) != 1 {
		t.Errorf("upstream got big %d, a %d", len(sub.on("gw/sensors/big")), len(sub.on("gw/sensors/a")))
	}
	if st.Reconnects != 0 {
		t.Errorf("%d reconnects", st.Reconnects)
	}
}

// TestBridge_V5_rejected: Mosquitto answers a QoS 1 PUBLISH its ACL denies
// with PUBACK 0x87 (not authorized) and a QoS 2 one with PUBREC 0x87: the
// bridge counts them as rejected and deletes them instead of sending them
// again forever; the allowed messages after them arrive.
func TestBridge_V5_rejected(t *testing.T) {
	acl := filepath.Join(t.TempDir(), "acl")
	if err := os.WriteFile(acl, []byte("topic deny gw/sensors/denied/#\ntopic readwrite #\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := mqtttest.StartMosquitto(t, "acl_file "+acl+"\n")
	sub := subscribeV5(t, addr, "v5sub", "gw/#")
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	r := start(t, v5Options(t, q, addr))
	r.awaitConnection(t)
	publishProps(t, r.b, "sensors/denied/1", "no", 1, nil)
	publishProps(t, r.b, "sensors/denied/2", "no", 2, nil)
	publishProps(t, r.b, "sensors/ok", "yes", 2, nil)
	sub.awaitOn(t, "gw/sensors/ok", 1)
	waitDrained(t, q)
	st := r.b.Stats()
	if got := st.Dropped[bridge.DroppedRejected]; got != 2 {
		t.Errorf("dropped rejected = %d, want 2 (stats %s)", got, describe(st))
	}
	if st.Inflight != 0 || st.Forwarded != 1 {
		t.Errorf("inflight %d, forwarded %d; want 0, 1", st.Inflight, st.Forwarded)
	}
}

// TestBridge_V5_serverDisconnect: an upstream that ends the session with
// DISCONNECT 0x8B (server shutting down; Mosquitto 2.0.11 just closes the
// socket, so a raw MQTT 5.0 server plays the part) is counted by reason in
// Stats and the metrics, and the bridge reconnects.
func TestBridge_V5_serverDisconnect(t *testing.T) {
	addr := rawV5Upstream(t, func(nc net.Conn, _ *packet.Connect) {
		out, _ := packet.V5.Append(nil, &packet.Connack{})
		out, _ = packet.V5.Append(out, &packet.Disconnect{ReasonCode: packet.ServerShuttingDown,
			Props: &packet.Properties{ReasonString: "maintenance"}})
		_, _ = nc.Write(out)
		_, _ = io.Copy(io.Discard, nc)
	})
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := v5Options(t, q, addr)
	o.Monitor.TopicPrefix = "gateways/d"
	r := start(t, o)
	mqtttest.WaitFor(t, func() bool { return r.b.Stats().ServerDisconnects["server_shutting_down"] >= 2 }, "DISCONNECTs counted, after a reconnection")
	st := r.b.Stats()
	if !errors.Is(st.LastDisconnect, bridge.ErrServerDisconnect) || !errors.Is(st.LastDisconnect, packet.ServerShuttingDown) {
		t.Errorf("LastDisconnect %v", st.LastDisconnect)
	}
	up := r.b.Metrics()["uplink"].(map[string]any)
	if d, _ := up["server_disconnects"].(map[string]uint64); d["server_shutting_down"] < 2 || up["protocol"] != "5" {
		t.Errorf("metrics uplink %v", up)
	}
}

// rawV5Upstream listens on a loopback port until the test ends and calls
// serve for every connection whose first packet is an MQTT 5.0 CONNECT
// with a Session Expiry Interval; it returns the "host:port".
func rawV5Upstream(t *testing.T, serve func(nc net.Conn, c *packet.Connect)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer nc.Close()
				p, err := packet.V5.ReadPacket(nc, 1<<20)
				c, ok := p.(*packet.Connect)
				if err != nil || !ok || c.ProtocolLevel != 5 || c.Props == nil || c.Props.SessionExpiry == nil {
					t.Errorf("CONNECT %+v, %v: want MQTT 5.0 with a session expiry", p, err)
					return
				}
				serve(nc, c)
			})
		}
	})
	return ln.Addr().String()
}

// TestBridge_V5_serverKeepAlive: the upstream's Server Keep Alive (1 s)
// replaces the bridge's keepalive (1 min): a PINGREQ comes within about
// half of it, and the CONNECT asked for the configured one.
func TestBridge_V5_serverKeepAlive(t *testing.T) {
	pings := make(chan time.Duration, 16)
	addr := rawV5Upstream(t, func(nc net.Conn, c *packet.Connect) {
		if c.KeepAlive != 60 || *c.Props.SessionExpiry != bridge.SessionExpiryNever {
			t.Errorf("CONNECT keepalive %d, session expiry %d; want 60, never", c.KeepAlive, *c.Props.SessionExpiry)
		}
		ka := uint16(1)
		out, _ := packet.V5.Append(nil, &packet.Connack{Props: &packet.Properties{ServerKeepAlive: &ka}})
		_, _ = nc.Write(out)
		start := time.Now()
		for {
			p, err := packet.V5.ReadPacket(nc, 1<<20)
			if err != nil {
				return
			}
			if _, ok := p.(*packet.Pingreq); ok {
				pings <- time.Since(start)
				out, _ := packet.V5.Append(nil, &packet.Pingresp{})
				_, _ = nc.Write(out)
			}
		}
	})
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := v5Options(t, q, addr)
	o.KeepAlive = time.Minute
	start(t, o)
	select {
	case d := <-pings:
		if d > 1500*time.Millisecond {
			t.Errorf("first PINGREQ after %v, want about 0.5 s", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no PINGREQ within 10 s: the Server Keep Alive of 1 s was ignored")
	}
}

// TestBridge_V5_upstream311Only: an MQTT 3.1.1-only upstream refuses the
// level-5 CONNECT with its own CONNACK 0x01, which does not decode as MQTT
// 5.0: the connection error says what to change.
func TestBridge_V5_upstream311Only(t *testing.T) {
	addr := rawV5Upstream(t, func(nc net.Conn, _ *packet.Connect) {
		_, _ = nc.Write([]byte{0x20, 2, 0, byte(packet.RefusedProtocolVersion)})
	})
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	r := start(t, v5Options(t, q, addr))
	mqtttest.WaitFor(t, func() bool {
		err := r.b.Stats().LastError
		return err != nil && strings.Contains(err.Error(), "bridge.protocol 3.1.1")
	}, "a connection error naming bridge.protocol")
}

// TestBridge_V5_maximumQoSRetain: Mosquitto with max_qos 1 and
// retain_available false announces both in its CONNACK (and refuses a
// retained will with 0x9A): the bridge connects after one refusal with a
// plain will, sends a retained QoS 2 message at QoS 1 without RETAIN (as
// sent, either would make Mosquitto close the connection, again on every
// re-send), and its status message too; nothing is lost or duplicated.
func TestBridge_V5_maximumQoSRetain(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "max_qos 1\nretain_available false\n")
	sub := subscribeV5(t, addr, "v5sub", "#")
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := v5Options(t, q, addr)
	o.Monitor.TopicPrefix = "gateways/mq"
	r := start(t, o)
	r.awaitConnection(t)
	errc := make(chan error, 1)
	r.b.OnPublish("c5", &packet.Publish{QoS: 2, Retain: true, Topic: "sensors/r", Payload: []byte("kept")}, func(err error) { errc <- err })
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	publishSeq(t, r.b, "sensors/seq", 0, 50, 2)
	m := sub.awaitOn(t, "gw/sensors/r", 1)[0]
	if m.QoS != 1 || m.Retain {
		t.Errorf("upstream got QoS %d retain %v, want QoS 1, not retained", m.QoS, m.Retain)
	}
	sub.awaitOn(t, "gw/sensors/seq", 50)
	sub.awaitOn(t, "gateways/mq/status", 1)
	waitDrained(t, q)
	st := r.b.Stats()
	if len(sub.on("gw/sensors/seq")) != 50 || st.Reconnects != 0 || st.Inflight != 0 {
		t.Errorf("%d of 50 upstream, stats %s", len(sub.on("gw/sensors/seq")), describe(st))
	}
}
