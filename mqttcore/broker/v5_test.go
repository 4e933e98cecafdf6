package broker

import (
	"bytes"
	"context"
	"net"
	"slices"
	"testing"
	"time"

	paho5c "github.com/eclipse/paho.golang/paho"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/topic"
)

// --- MQTT 5.0 clients: paho.golang, and raw packets ---

// paho5 is a connected paho.golang client and what it received.
type paho5 struct {
	*paho5c.Client
	ack *paho5c.Connack
	in  chan *paho5c.Publish
}

// connectV5 connects a paho.golang client; edit may change the CONNECT.
// It disconnects when the test ends.
func connectV5(t *testing.T, addr, id string, edit func(*paho5c.Connect)) *paho5 {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	in := make(chan *paho5c.Publish, 1000)
	c := paho5c.NewClient(paho5c.ClientConfig{Conn: conn, OnPublishReceived: []func(paho5c.PublishReceived) (bool, error){
		func(pr paho5c.PublishReceived) (bool, error) { in <- pr.Packet; return true, nil },
	}})
	cp := &paho5c.Connect{ClientID: id, CleanStart: true, KeepAlive: 30}
	if edit != nil {
		edit(cp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ack, err := c.Connect(ctx, cp)
	if err != nil {
		_ = conn.Close()
		t.Fatalf("paho.golang connect %s: %v (connack %+v)", id, err, ack)
	}
	t.Cleanup(func() {
		_ = c.Disconnect(&paho5c.Disconnect{})
		select {
		case <-c.Done():
		case <-time.After(wait):
		}
	})
	return &paho5{Client: c, ack: ack, in: in}
}

// keepSession is a connectV5 edit for a persistent session: Clean Start 0
// and a Session Expiry Interval of expiry seconds.
func keepSession(expiry uint32) func(*paho5c.Connect) {
	return func(cp *paho5c.Connect) {
		cp.CleanStart = false
		cp.Properties = &paho5c.ConnectProperties{SessionExpiryInterval: &expiry}
	}
}

// sub subscribes with the given options and checks the reason codes.
func (c *paho5) sub(t *testing.T, opts ...paho5c.SubscribeOptions) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ack, err := c.Subscribe(ctx, &paho5c.Subscribe{Subscriptions: opts})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	for i, o := range opts {
		if ack.Reasons[i] != o.QoS {
			t.Fatalf("SUBACK %#x for %s, want %d", ack.Reasons[i], o.Topic, o.QoS)
		}
	}
}

// pub publishes and returns the acknowledgement's reason code.
func (c *paho5) pub(t *testing.T, p *paho5c.Publish) byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	r, err := c.Publish(ctx, p)
	if err != nil {
		t.Fatalf("publish %s: %v", p.Topic, err)
	}
	if r == nil {
		return 0
	}
	return r.ReasonCode
}

// next returns the next message received.
func (c *paho5) next(t *testing.T) *paho5c.Publish {
	t.Helper()
	return receive(t, c.in)
}

// none checks that nothing arrives for a short while.
func (c *paho5) none(t *testing.T) {
	t.Helper()
	select {
	case p := <-c.in:
		t.Fatalf("unexpected message %s %q", p.Topic, p.Payload)
	case <-time.After(200 * time.Millisecond):
	}
}

// connectRaw5 dials and sends a level-5 CONNECT with props; it returns the
// connection (reading MQTT 5.0) and the CONNACK.
func connectRaw5(t *testing.T, addr, id string, props *packet.Properties) (*rawClient, *packet.Connack) {
	t.Helper()
	c := dialRaw(t, addr)
	c.r.SetVersion(packet.V5)
	c.send5(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 5, ClientID: id, CleanSession: true, KeepAlive: 60, Props: props})
	return c, c.connack()
}

// send5 encodes p as MQTT 5.0 and sends it.
func (c *rawClient) send5(p packet.Packet) {
	c.t.Helper()
	b, err := packet.V5.Append(nil, p)
	if err != nil {
		c.t.Fatalf("encode %T: %v", p, err)
	}
	c.sendBytes(b)
}

// expectDisconnect reads until a DISCONNECT, which must carry rc, and then
// the end of the connection.
func (c *rawClient) expectDisconnect(rc packet.ReasonCode) {
	c.t.Helper()
	for {
		p := c.read()
		if d, ok := p.(*packet.Disconnect); ok {
			if d.ReasonCode != rc {
				c.t.Fatalf("DISCONNECT %#02x (%v), want %#02x (%v)", byte(d.ReasonCode), d.ReasonCode, byte(rc), rc)
			}
			c.expectClosed()
			return
		}
	}
}

// --- tests ---

// MQTT 5.0 and 3.1.1 clients exchange messages both ways through the
// broker; message properties reach the MQTT 5.0 subscriber unchanged and
// are dropped for the 3.1.1 one.
func TestBroker_V5_exchangeWith311(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	c5 := connectV5(t, addr, "five", nil)
	c5.sub(t, paho5c.SubscribeOptions{Topic: "x/#", QoS: 1})
	c3 := paho(t, addr, uniqueID(t, "three"), true)
	in3 := subscribe(t, c3, "x/#", 1)

	publish(t, c3, "x/from3", 1, false, "hello five")
	if p := c5.next(t); p.Topic != "x/from3" || string(p.Payload) != "hello five" || p.QoS != 1 {
		t.Fatalf("v5 got %s %q qos %d", p.Topic, p.Payload, p.QoS)
	}
	in3.expect(t, "x/from3", "hello five")

	pf := byte(1)
	exp := uint32(3600)
	props := &paho5c.PublishProperties{PayloadFormat: &pf, MessageExpiry: &exp, ContentType: "text/plain",
		ResponseTopic: "x/reply", CorrelationData: []byte{1, 2, 3},
		User: paho5c.UserProperties{{Key: "k", Value: "v"}, {Key: "k", Value: "w"}}}
	for _, qos := range []byte{0, 1, 2} {
		c5.pub(t, &paho5c.Publish{Topic: "x/from5", QoS: qos, Payload: []byte("hello three"), Properties: props})
		in3.expect(t, "x/from5", "hello three")
		got := c5.next(t)
		gp := got.Properties
		if string(got.Payload) != "hello three" || gp == nil || gp.PayloadFormat == nil || *gp.PayloadFormat != 1 ||
			gp.MessageExpiry == nil || *gp.MessageExpiry != 3600 || gp.ContentType != "text/plain" ||
			gp.ResponseTopic != "x/reply" || !bytes.Equal(gp.CorrelationData, []byte{1, 2, 3}) ||
			len(gp.User) != 2 || gp.User[0] != (paho5c.UserProperty{Key: "k", Value: "v"}) || gp.User[1].Value != "w" {
			t.Fatalf("qos %d: v5 subscriber got %q %+v", qos, got.Payload, gp)
		}
	}
}

// The CONNACK to an MQTT 5.0 client announces the broker's limits and what
// it does not support, and assigns an identifier to a client without one.
func TestBroker_V5_connack(t *testing.T) {
	opts := testOptions(t)
	opts.MaxPacketSize = 4096
	opts.ReceiveMaximum = 7
	opts.TopicAliasMaximum = 3
	opts.SessionExpiry = time.Minute
	_, addr := startBroker(t, opts)
	long := uint32(3600)
	c := connectV5(t, addr, "", func(cp *paho5c.Connect) {
		cp.Properties = &paho5c.ConnectProperties{SessionExpiryInterval: &long}
	})
	p := c.ack.Properties
	if c.ack.ReasonCode != 0 || p == nil {
		t.Fatalf("CONNACK %+v", c.ack)
	}
	if *p.ReceiveMaximum != 7 || *p.MaximumPacketSize != 4096 || *p.TopicAliasMaximum != 3 {
		t.Errorf("limits: receive maximum %d, maximum packet size %d, topic alias maximum %d", *p.ReceiveMaximum, *p.MaximumPacketSize, *p.TopicAliasMaximum)
	}
	if !p.SubIDAvailable || !p.SharedSubAvailable || !p.WildcardSubAvailable || !p.RetainAvailable {
		t.Errorf("availability: %+v", p)
	}
	if p.AssignedClientID == "" { // [MQTT-3.2.2-16]
		t.Error("no assigned client identifier")
	}
	if p.SessionExpiryInterval == nil || *p.SessionExpiryInterval != 60 {
		t.Errorf("session expiry %v, want the cap 60", p.SessionExpiryInterval)
	}
}

// A CONNECT with an Authentication Method gets CONNACK 0x8C and the
// connection is closed [MQTT-4.12.0-1].
func TestBroker_V5_authMethodRefused(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	c, ack := connectRaw5(t, addr, "a", &packet.Properties{AuthMethod: "SCRAM-SHA-1"})
	if ack.ReasonCode != packet.BadAuthenticationMethod {
		t.Fatalf("CONNACK %v, want bad authentication method", ack.ReasonCode)
	}
	c.expectClosed()
}

// DISCONNECT 0x04 publishes the will; a normal DISCONNECT does not.
func TestBroker_V5_disconnectWithWill(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	watcher := connectV5(t, addr, "watcher", nil)
	watcher.sub(t, paho5c.SubscribeOptions{Topic: "will/#", QoS: 1})
	for _, tt := range []struct {
		code byte
		want bool
	}{{0x00, false}, {0x04, true}} {
		c2 := dialRaw(t, addr)
		c2.r.SetVersion(packet.V5)
		c2.send5(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 5, ClientID: "willer", CleanSession: true,
			WillFlag: true, WillTopic: "will/x", WillMessage: []byte("gone"), WillQoS: 1,
			WillProps: &packet.Properties{ContentType: "text/plain"}})
		c2.connack()
		c2.send5(&packet.Disconnect{ReasonCode: packet.ReasonCode(tt.code)})
		c2.expectClosed()
		if !tt.want {
			watcher.none(t)
			continue
		}
		p := watcher.next(t)
		if p.Topic != "will/x" || string(p.Payload) != "gone" || p.Properties == nil || p.Properties.ContentType != "text/plain" {
			t.Fatalf("will %s %q %+v", p.Topic, p.Payload, p.Properties)
		}
	}
}

// Protocol violations by an MQTT 5.0 client end its connection with a
// DISCONNECT carrying the reason code; the other clients carry on.
func TestBroker_V5_violations(t *testing.T) {
	opts := testOptions(t)
	opts.MaxPacketSize = 1024
	opts.TopicAliasMaximum = 4
	opts.ReceiveMaximum = 2
	hook := newAsyncHook(t, true) // holds every PUBACK: the quota fills
	opts.Hook = hook
	_, addr := startBroker(t, opts)
	bystander := connectV5(t, addr, "bystander", nil)
	bystander.sub(t, paho5c.SubscribeOptions{Topic: "bystander/#", QoS: 0})

	pub := func(alias uint16, topic string, qos byte, id uint16) []byte {
		p := &packet.Publish{Topic: topic, QoS: qos, PacketID: id, Payload: []byte("x")}
		if alias != 0 {
			p.Props = &packet.Properties{TopicAlias: alias}
		}
		b, err := packet.V5.Append(nil, p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		send [][]byte
		want packet.ReasonCode
	}{
		// A PUBLISH with a Session Expiry Interval, not a PUBLISH property (2.2.2.2).
		{"wrong property for the packet type", [][]byte{{0x30, 0x0a, 0x00, 0x01, 'a', 0x05, 0x11, 0, 0, 0, 1, 'x'}}, packet.MalformedPacket},
		{"duplicate property", [][]byte{{0x30, 0x0a, 0x00, 0x01, 'a', 0x06, 0x03, 0x00, 0x00, 0x03, 0x00, 0x00}}, packet.ProtocolError},
		{"topic alias 0", [][]byte{{0x30, 0x07, 0x00, 0x01, 'a', 0x03, 0x23, 0x00, 0x00}}, packet.TopicAliasInvalid},                   // [MQTT-3.3.2-8]
		{"topic alias above the maximum", [][]byte{pub(5, "a", 0, 0)}, packet.TopicAliasInvalid},                                       // [MQTT-3.3.2-9]
		{"unknown topic alias", [][]byte{{0x30, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x02}}, packet.ProtocolError},                      // (3.3.4)
		{"receive maximum exceeded", [][]byte{pub(0, "q", 1, 1), pub(0, "q", 1, 2), pub(0, "q", 1, 3)}, packet.ReceiveMaximumExceeded}, // [MQTT-3.3.4-7]
		{"packet too large", [][]byte{append([]byte{0x30, 0x80, 0x10, 0x00, 0x01, 'a', 0x00}, make([]byte, 20)...)}, packet.PacketTooLarge},
		{"subscription identifier 0", [][]byte{{0x82, 0x09, 0x00, 0x01, 0x02, 0x0b, 0x00, 0x00, 0x01, 'a', 0x00}}, packet.ProtocolError},
		{"publish with a subscription identifier", [][]byte{{0x30, 0x07, 0x00, 0x01, 'a', 0x02, 0x0b, 0x01, 'x'}}, packet.ProtocolError}, // [MQTT-3.3.4-6]
		{"AUTH without an authentication method", [][]byte{{0xf0, 0x00}}, packet.ProtocolError},
		{"session expiry in DISCONNECT after 0", [][]byte{{0xe0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x0a}}, packet.ProtocolError},
		{"invalid reason code in PUBACK", [][]byte{{0x40, 0x03, 0x00, 0x01, 0x05}}, packet.ProtocolError},
		{"second CONNECT", [][]byte{{0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x00}}, packet.ProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ack := connectRaw5(t, addr, uniqueID(t, "c"), nil)
			if ack.ReasonCode != packet.Success {
				t.Fatalf("CONNACK %v", ack.ReasonCode)
			}
			for _, b := range tt.send {
				c.sendBytes(b)
			}
			c.expectDisconnect(tt.want)
			bystander.pub(t, &paho5c.Publish{Topic: "bystander/after", Payload: []byte(tt.name)})
			if p := bystander.next(t); string(p.Payload) != tt.name {
				t.Fatalf("bystander got %q", p.Payload)
			}
		})
	}
}

// Session Expiry Interval: 0 ends the session with the connection, a
// positive interval keeps it (capped by Options.SessionExpiry) until it
// runs out, and a DISCONNECT may shorten it.
func TestBroker_V5_sessionExpiry(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	secs := func(n uint32) *uint32 { return &n }
	connect := func(id string, clean bool, expiry *uint32) *packet.Connack {
		c := dialRaw(t, addr)
		c.r.SetVersion(packet.V5)
		c.send5(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 5, ClientID: id, CleanSession: clean,
			Props: &packet.Properties{SessionExpiry: expiry}})
		ack := c.connack()
		c.send5(&packet.Disconnect{})
		c.expectClosed()
		return ack
	}
	gone := func(id string) bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.sessions[id] == nil
	}
	connect("zero", false, secs(0))
	waitFor(t, "the session to end", func() bool { return gone("zero") })
	if ack := connect("zero", false, secs(0)); ack.SessionPresent {
		t.Error("expiry 0: session present")
	}

	connect("minute", true, secs(60))
	if ack := connect("minute", false, secs(60)); !ack.SessionPresent { // [MQTT-3.1.2-5]
		t.Error("expiry 60: session not present")
	}
	// The client saw its connection close; the broker may not have let go
	// of the session yet, and a connected session does not expire.
	waitFor(t, "the client to leave", func() bool { return b.Stats().ClientsConnected == 0 })
	if n := b.expireSessions(time.Now().Add(30 * time.Second)); n != 0 {
		t.Errorf("%d sessions expired after 30 s", n)
	}
	if n := b.expireSessions(time.Now().Add(61 * time.Second)); n != 1 || !gone("minute") {
		t.Errorf("%d sessions expired after 61 s, want 1", n)
	}

	// A DISCONNECT with expiry 0 ends a session that would have stayed.
	c2 := dialRaw(t, addr)
	c2.r.SetVersion(packet.V5)
	c2.send5(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 5, ClientID: "short", Props: &packet.Properties{SessionExpiry: secs(600)}})
	c2.connack()
	c2.send5(&packet.Disconnect{Props: &packet.Properties{SessionExpiry: secs(0)}})
	c2.expectClosed()
	waitFor(t, "the session to end", func() bool { return gone("short") })
}

// The broker never has more unacknowledged QoS 1/2 PUBLISHes out to a
// client than its Receive Maximum [MQTT-3.3.4-9].
func TestBroker_V5_receiveMaximumClient(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	c, _ := connectRaw5(t, addr, "slow", &packet.Properties{ReceiveMaximum: 2})
	c.send5(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "rm/#", QoS: 1}}})
	c.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{1}})
	pub := connectV5(t, addr, "pub", nil)
	for i := range 5 {
		pub.pub(t, &paho5c.Publish{Topic: "rm/x", QoS: 1, Payload: []byte{byte('0' + i)}})
	}
	first, second := c.publish(), c.publish()
	_ = c.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if p, err := c.r.Read(); err == nil {
		t.Fatalf("a third PUBLISH before any PUBACK: %+v", p)
	}
	c.r = packet.NewReader(c.conn, 0) // the timed-out read left the reader in error
	c.r.SetVersion(packet.V5)
	c.send5(&packet.Puback{PacketID: first.PacketID})
	if p := c.publish(); string(p.Payload) != "2" {
		t.Fatalf("after one PUBACK got %q, want 2", p.Payload)
	}
	_ = second
}

// A message larger than the client's Maximum Packet Size is not sent to
// it [MQTT-3.1.2-24]; smaller ones are [MQTT-3.1.2-25].
func TestBroker_V5_maximumPacketSize(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	limit := uint32(64)
	c := connectV5(t, addr, "small", func(cp *paho5c.Connect) {
		cp.Properties = &paho5c.ConnectProperties{MaximumPacketSize: &limit}
	})
	c.sub(t, paho5c.SubscribeOptions{Topic: "mps/#", QoS: 1})
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	for _, qos := range []byte{0, 1} {
		publish(t, pub, "mps/big", qos, false, string(make([]byte, 100)))
		publish(t, pub, "mps/small", qos, false, "fits")
		if p := c.next(t); p.Topic != "mps/small" {
			t.Fatalf("qos %d: got %s (%d bytes)", qos, p.Topic, len(p.Payload))
		}
	}
	if n := b.Stats().Dropped.TooLarge; n != 2 {
		t.Errorf("Dropped.TooLarge %d, want 2", n)
	}
}

// Topic Aliases from a client: an alias set with a topic name stands for
// it in later PUBLISHes of that connection; subscribers get the name.
func TestBroker_V5_topicAlias(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	sub := connectV5(t, addr, "sub", nil)
	sub.sub(t, paho5c.SubscribeOptions{Topic: "ta/#", QoS: 0})
	c, ack := connectRaw5(t, addr, "aliaser", nil)
	if ack.Props == nil || ack.Props.TopicAliasMaximum != DefaultTopicAliasMax {
		t.Fatalf("CONNACK %+v", ack.Props)
	}
	c.send5(&packet.Publish{Topic: "ta/long/name", Payload: []byte("1"), Props: &packet.Properties{TopicAlias: 1}})
	c.send5(&packet.Publish{Payload: []byte("2"), Props: &packet.Properties{TopicAlias: 1}})
	for _, want := range []string{"1", "2"} {
		p := sub.next(t)
		if p.Topic != "ta/long/name" || string(p.Payload) != want || p.Properties != nil && p.Properties.TopicAlias != nil {
			t.Fatalf("got %s %q %+v", p.Topic, p.Payload, p.Properties)
		}
	}
}

// A queued message whose Message Expiry Interval runs out is not
// delivered [MQTT-3.3.2-5]; one that is still valid is, with the interval
// counted down [MQTT-3.3.2-6].
func TestBroker_V5_messageExpiry(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	hour := uint32(3600)
	away := connectV5(t, addr, "away", func(cp *paho5c.Connect) {
		cp.Properties = &paho5c.ConnectProperties{SessionExpiryInterval: &hour}
	})
	away.sub(t, paho5c.SubscribeOptions{Topic: "me/#", QoS: 1})
	_ = away.Disconnect(&paho5c.Disconnect{})
	<-away.Done()

	pub := connectV5(t, addr, "pub", nil)
	one, hundred := uint32(1), uint32(100)
	pub.pub(t, &paho5c.Publish{Topic: "me/short", QoS: 1, Payload: []byte("short"), Properties: &paho5c.PublishProperties{MessageExpiry: &one}})
	pub.pub(t, &paho5c.Publish{Topic: "me/long", QoS: 1, Payload: []byte("long"), Properties: &paho5c.PublishProperties{MessageExpiry: &hundred}})
	time.Sleep(1100 * time.Millisecond)

	back := connectV5(t, addr, "away", keepSession(hour))
	if !back.ack.SessionPresent {
		t.Fatal("session not present")
	}
	p := back.next(t)
	if p.Topic != "me/long" || p.Properties == nil || p.Properties.MessageExpiry == nil || *p.Properties.MessageExpiry >= 100 || *p.Properties.MessageExpiry < 90 {
		t.Fatalf("got %s %+v", p.Topic, p.Properties)
	}
	back.none(t)
	if n := b.Stats().Dropped.Expired; n != 1 {
		t.Errorf("Dropped.Expired %d, want 1", n)
	}
}

// Subscription options: No Local [MQTT-3.8.3-3], Retain As Published
// [MQTT-3.3.1-12] [MQTT-3.3.1-13], Retain Handling [MQTT-3.3.1-9]
// [MQTT-3.3.1-10] [MQTT-3.3.1-11].
func TestBroker_V5_subscriptionOptions(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	other := connectV5(t, addr, "other", nil)

	t.Run("no local", func(t *testing.T) {
		c := connectV5(t, addr, "nolocal", nil)
		c.sub(t, paho5c.SubscribeOptions{Topic: "nl/#", QoS: 1, NoLocal: true})
		c.pub(t, &paho5c.Publish{Topic: "nl/mine", QoS: 1, Payload: []byte("mine")})
		other.pub(t, &paho5c.Publish{Topic: "nl/theirs", QoS: 1, Payload: []byte("theirs")})
		if p := c.next(t); p.Topic != "nl/theirs" {
			t.Fatalf("got %s", p.Topic)
		}
	})
	t.Run("retain as published", func(t *testing.T) {
		rap := connectV5(t, addr, "rap", nil)
		rap.sub(t, paho5c.SubscribeOptions{Topic: "rap/#", QoS: 1, RetainAsPublished: true})
		plain := connectV5(t, addr, "plain", nil)
		plain.sub(t, paho5c.SubscribeOptions{Topic: "rap/#", QoS: 1})
		for _, qos := range []byte{0, 1} {
			other.pub(t, &paho5c.Publish{Topic: "rap/x", QoS: qos, Retain: true, Payload: []byte("r")})
			if p := rap.next(t); !p.Retain {
				t.Errorf("qos %d: retain as published: RETAIN 0", qos)
			}
			if p := plain.next(t); p.Retain {
				t.Errorf("qos %d: without retain as published: RETAIN 1", qos)
			}
		}
	})
	t.Run("retain handling", func(t *testing.T) {
		other.pub(t, &paho5c.Publish{Topic: "rh/x", QoS: 1, Retain: true, Payload: []byte("kept")})
		c := connectV5(t, addr, "rh", nil)
		c.sub(t, paho5c.SubscribeOptions{Topic: "rh/#", QoS: 1, RetainHandling: 2})
		c.none(t)
		c.sub(t, paho5c.SubscribeOptions{Topic: "rh/+", QoS: 1, RetainHandling: 1})
		if p := c.next(t); string(p.Payload) != "kept" || !p.Retain {
			t.Fatalf("new subscription, retain handling 1: %s %q retain %v", p.Topic, p.Payload, p.Retain)
		}
		c.sub(t, paho5c.SubscribeOptions{Topic: "rh/+", QoS: 1, RetainHandling: 1})
		c.none(t)
		c.sub(t, paho5c.SubscribeOptions{Topic: "rh/+", QoS: 1, RetainHandling: 0})
		if p := c.next(t); string(p.Payload) != "kept" {
			t.Fatalf("retain handling 0: %q", p.Payload)
		}
	})
}

// Acknowledgements carry MQTT 5.0 reason codes: a PUBLISH the Authorizer
// refuses gets 0x87, a PUBREL for an unknown identifier PUBCOMP 0x92,
// an UNSUBSCRIBE of a filter not subscribed 0x11, a refused filter 0x87.
func TestBroker_V5_reasonCodes(t *testing.T) {
	opts := testOptions(t)
	opts.Authorizer = denyTopic("secret/#")
	_, addr := startBroker(t, opts)
	c, _ := connectRaw5(t, addr, "rc", nil)
	c.send5(&packet.Publish{Topic: "secret/x", QoS: 1, PacketID: 1})
	c.expectPacket(&packet.Puback{PacketID: 1, ReasonCode: packet.NotAuthorized})
	c.send5(&packet.Publish{Topic: "secret/x", QoS: 2, PacketID: 2})
	c.expectPacket(&packet.Pubrec{PacketID: 2, ReasonCode: packet.NotAuthorized})
	c.send5(&packet.Pubrel{PacketID: 9})
	c.expectPacket(&packet.Pubcomp{PacketID: 9, ReasonCode: packet.PacketIdentifierNotFound})
	c.send5(&packet.Subscribe{PacketID: 3, Subscriptions: []packet.Subscription{{Filter: "ok/#", QoS: 1}, {Filter: "secret/#"}, {Filter: "$share/g+/x"}}})
	c.expectPacket(&packet.Suback{PacketID: 3, ReturnCodes: []byte{1, byte(packet.NotAuthorized), byte(packet.TopicFilterInvalid)}})
	c.send5(&packet.Unsubscribe{PacketID: 4, Filters: []string{"ok/#", "never/#"}})
	c.expectPacket(&packet.Unsuback{PacketID: 4, ReasonCodes: []byte{0, byte(packet.NoSubscriptionExisted)}})
}

// denyTopic is an Authorizer that refuses publishing and subscribing under
// filter.
type denyTopic string

func (d denyTopic) CanPublish(_, _, name string) bool     { return !topic.Match(string(d), name) }
func (d denyTopic) CanSubscribe(_, _, filter string) bool { return !topic.Match(string(d), filter) }
func (d denyTopic) CanRead(_, _, name string) bool        { return true }

// A persistent session keeps its MQTT 5.0 Session Expiry Interval across
// a restart; a 3.1.1 session's record keeps its old format.
func TestBroker_V5_sessionExpiryPersisted(t *testing.T) {
	sessions := newMemStore()
	opts := testOptions(t)
	opts.Sessions = sessions
	b, addr := startBroker(t, opts)
	ninety := uint32(90)
	c := connectV5(t, addr, "keeper", func(cp *paho5c.Connect) {
		cp.Properties = &paho5c.ConnectProperties{SessionExpiryInterval: &ninety}
	})
	c.sub(t, paho5c.SubscribeOptions{Topic: "keep/#", QoS: 1, NoLocal: true})
	_ = c.Disconnect(&paho5c.Disconnect{})
	<-c.Done()
	old := paho(t, addr, uniqueID(t, "old"), false)
	subscribe(t, old, "old/#", 1)
	old.Disconnect(0)
	waitFor(t, "the clients to leave", func() bool { return b.Stats().ClientsConnected == 0 })
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if v := sessions.value(uniqueID(t, "old")); len(v) == 0 || v[0] != sessionRecordV2 {
		t.Errorf("3.1.1 session record %v, want version %d", v, sessionRecordV2)
	}

	b2, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := b2.sessions["keeper"]
	if s == nil || s.expiry != 90*time.Second || s.subs["keep/#"] != 1|subNoLocal {
		t.Fatalf("restored session %+v", s)
	}
}

// A connection whose client identifier a new connection takes over gets
// DISCONNECT 0x8E before it is closed [MQTT-3.1.4-3].
func TestBroker_V5_sessionTakenOver(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	first, _ := connectRaw5(t, addr, "twin", nil)
	second, ack := connectRaw5(t, addr, "twin", nil)
	if ack.ReasonCode != packet.Success {
		t.Fatalf("CONNACK %v", ack.ReasonCode)
	}
	first.expectDisconnect(packet.SessionTakenOver)
	second.send5(&packet.Pingreq{})
	second.expectPacket(&packet.Pingresp{})
}

// When the broker stops, an MQTT 5.0 client gets DISCONNECT 0x8B.
func TestBroker_V5_shutdown(t *testing.T) {
	b, err := New(testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serveUntil(t, b)
	c, _ := connectRaw5(t, addr, "bye", nil)
	go stop()
	c.expectDisconnect(packet.ServerShuttingDown)
	stop()
}

// A PUBREC with a failure reason code ends the QoS 2 exchange: no PUBREL,
// and the message's place in the window goes to the next one.
func TestBroker_V5_pubrecRefused(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	c, _ := connectRaw5(t, addr, "refuser", &packet.Properties{ReceiveMaximum: 1})
	c.send5(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "q2/#", QoS: 2}}})
	c.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{2}})
	pub := connectV5(t, addr, "pub", nil)
	pub.pub(t, &paho5c.Publish{Topic: "q2/a", QoS: 2, Payload: []byte("a")})
	pub.pub(t, &paho5c.Publish{Topic: "q2/b", QoS: 2, Payload: []byte("b")})
	first := c.publish()
	c.send5(&packet.Pubrec{PacketID: first.PacketID, ReasonCode: packet.QuotaExceeded})
	if p := c.publish(); string(p.Payload) != "b" { // not a PUBREL
		t.Fatalf("after a refusing PUBREC got %q", p.Payload)
	}
}

// A retained message keeps its MQTT 5.0 properties across a restart; one
// without keeps the old record format.
func TestBroker_V5_retainedPropertiesPersisted(t *testing.T) {
	retained := newMemStore()
	opts := testOptions(t)
	opts.Retained = retained
	b, addr := startBroker(t, opts)
	c := connectV5(t, addr, "pub", nil)
	c.pub(t, &paho5c.Publish{Topic: "rp/props", QoS: 1, Retain: true, Payload: []byte("p"),
		Properties: &paho5c.PublishProperties{ContentType: "text/plain", User: paho5c.UserProperties{{Key: "k", Value: "v"}}}})
	c.pub(t, &paho5c.Publish{Topic: "rp/plain", QoS: 1, Retain: true, Payload: []byte("q")})
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if plain := retained.value("rp/plain"); len(plain) == 0 || plain[0] != retainedRecordV1 {
		t.Errorf("record without properties %v, want version %d", plain, retainedRecordV1)
	}

	b2, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr2 := serve(t, b2)
	sub := connectV5(t, addr2, "sub", nil)
	sub.sub(t, paho5c.SubscribeOptions{Topic: "rp/props", QoS: 1})
	p := sub.next(t)
	if string(p.Payload) != "p" || p.QoS != 1 || !p.Retain || p.Properties == nil || p.Properties.ContentType != "text/plain" ||
		len(p.Properties.User) != 1 || p.Properties.User[0].Value != "v" {
		t.Fatalf("restored retained message %q qos %d retain %v %+v", p.Payload, p.QoS, p.Retain, p.Properties)
	}
}

// Subscription Identifiers are delivered with the messages their
// subscriptions match, all of them for overlapping ones [MQTT-3.3.4-3];
// a subscription without one, or unsubscribed, adds none.
func TestBroker_V5_subscriptionIdentifiers(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	c := connectV5(t, addr, "ids", nil)
	subscribeID := func(id int, filter string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		s := &paho5c.Subscribe{Subscriptions: []paho5c.SubscribeOptions{{Topic: filter, QoS: 1}}}
		if id != 0 {
			s.Properties = &paho5c.SubscribeProperties{SubscriptionIdentifier: &id}
		}
		if _, err := c.Subscribe(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	subscribeID(7, "sid/#")
	subscribeID(9, "sid/+/x")
	subscribeID(0, "sid/plain")
	other := connectV5(t, addr, "other", nil)
	other.sub(t, paho5c.SubscribeOptions{Topic: "sid/#", QoS: 1})
	pub := paho(t, addr, uniqueID(t, "pub"), true)

	ids := func(p *paho5c.Publish) []int {
		// paho.golang keeps one identifier; read them all from the raw
		// packet instead when it has more.
		if p.Properties == nil || p.Properties.SubscriptionIdentifier == nil {
			return nil
		}
		return []int{*p.Properties.SubscriptionIdentifier}
	}
	for _, qos := range []byte{0, 1} {
		publish(t, pub, "sid/a/x", qos, false, "both")
		if got := ids(c.next(t)); len(got) != 1 || got[0] != 7 && got[0] != 9 {
			t.Errorf("qos %d: overlapping subscriptions: ids %v", qos, got)
		}
		publish(t, pub, "sid/plain", qos, false, "one")
		if got := ids(c.next(t)); len(got) != 1 || got[0] != 7 {
			t.Errorf("qos %d: ids %v, want [7]", qos, got)
		}
		if got := ids(other.next(t)); got != nil {
			t.Errorf("qos %d: subscriber without identifiers got %v", qos, got)
		}
		other.next(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := c.Unsubscribe(ctx, &paho5c.Unsubscribe{Topics: []string{"sid/#", "sid/+/x"}}); err != nil {
		t.Fatal(err)
	}
	publish(t, pub, "sid/plain", 1, false, "none")
	if got := ids(c.next(t)); got != nil {
		t.Errorf("after unsubscribing: ids %v", got)
	}

	// Both identifiers of overlapping subscriptions, on the wire.
	r, _ := connectRaw5(t, addr, "raw", nil)
	r.send5(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "rid/#", QoS: 1}}, Props: &packet.Properties{SubscriptionIDs: []uint32{3}}})
	r.read()
	r.send5(&packet.Subscribe{PacketID: 2, Subscriptions: []packet.Subscription{{Filter: "rid/+", QoS: 1}}, Props: &packet.Properties{SubscriptionIDs: []uint32{4}}})
	r.read()
	publish(t, pub, "rid/z", 1, false, "two")
	if p := r.publish(); p.Props == nil || !slices.Equal(p.Props.SubscriptionIDs, []uint32{3, 4}) {
		t.Fatalf("ids %+v", p.Props)
	}
}

// A will with a Will Delay Interval waits while the session lives on: it
// is published when the interval passes, not if the client comes back
// first, and at once when the session ends with the connection.
func TestBroker_V5_willDelay(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	watcher := connectV5(t, addr, "watcher", nil)
	watcher.sub(t, paho5c.SubscribeOptions{Topic: "wd/#", QoS: 1})
	secs := func(n uint32) *uint32 { return &n }
	drop := func(id string, expiry uint32) {
		c := dialRaw(t, addr)
		c.r.SetVersion(packet.V5)
		c.send5(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 5, ClientID: id, KeepAlive: 60,
			Props: &packet.Properties{SessionExpiry: secs(expiry)}, WillFlag: true, WillTopic: "wd/" + id,
			WillMessage: []byte("gone"), WillProps: &packet.Properties{WillDelay: 5}})
		c.connack()
		_ = c.conn.Close() // no DISCONNECT
		waitFor(t, "the connection to end", func() bool {
			b.mu.Lock()
			defer b.mu.Unlock()
			s := b.sessions[id]
			return s == nil || s.conn.Load() == nil
		})
	}

	drop("late", 60)
	watcher.none(t)
	b.publishDueWills(time.Now().Add(4 * time.Second))
	watcher.none(t)
	b.publishDueWills(time.Now().Add(6 * time.Second))
	if p := watcher.next(t); p.Topic != "wd/late" {
		t.Fatalf("got %s", p.Topic)
	}

	drop("back", 60)
	connectRaw5(t, addr, "back", nil) // clean start: the session ends, and its will goes now
	b.publishDueWills(time.Now())
	if p := watcher.next(t); p.Topic != "wd/back" {
		t.Fatalf("got %s", p.Topic)
	}

	drop("resumed", 60)
	c := dialRaw(t, addr)
	c.r.SetVersion(packet.V5)
	c.send5(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 5, ClientID: "resumed", Props: &packet.Properties{SessionExpiry: secs(60)}})
	if ack := c.connack(); !ack.SessionPresent {
		t.Fatal("session not present")
	}
	b.publishDueWills(time.Now().Add(time.Minute))
	watcher.none(t) // [MQTT-3.1.3-9]

	drop("brief", 0) // the session ends with the connection
	if p := watcher.next(t); p.Topic != "wd/brief" {
		t.Fatalf("got %s", p.Topic)
	}
}
