package broker

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	paho5c "github.com/eclipse/paho.golang/paho"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// The broker gives the first topics it sends to a client that accepts
// Topic Aliases an alias each: the name and the alias the first time, an
// empty name and the alias after [MQTT-3.3.2-12]; topics beyond the
// client's Topic Alias Maximum [MQTT-3.3.2-8] and very short ones keep
// their name; QoS 1 messages keep their own packet identifiers; a client
// that accepts none gets none.
func TestBroker_V5_topicAliasOut(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	c, _ := connectRaw5(t, addr, "aliased", &packet.Properties{TopicAliasMaximum: 2})
	c.send5(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "#", QoS: 1}}})
	c.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{1}})
	plain, _ := connectRaw5(t, addr, "plain", nil)
	plain.send5(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "#", QoS: 1}}})
	plain.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{1}})

	pub := connectV5(t, addr, "pub", nil)
	topics := []string{"alias/one", "alias/two", "alias/one", "alias/three", "alias/two", "ab", "alias/three"}
	for i, tp := range topics {
		pub.pub(t, &paho5c.Publish{Topic: tp, QoS: byte(1 - i%2), Payload: fmt.Appendf(nil, "%d", i),
			Properties: &paho5c.PublishProperties{ContentType: "text/plain"}})
	}
	want := []struct {
		topic string
		alias uint16
	}{{"alias/one", 1}, {"alias/two", 2}, {"", 1}, {"alias/three", 0}, {"", 2}, {"ab", 0}, {"alias/three", 0}}
	ids := map[uint16]bool{}
	for i, w := range want {
		p := c.publish()
		if p.QoS == 1 {
			if ids[p.PacketID] {
				t.Fatalf("message %d: packet identifier %d again", i, p.PacketID)
			}
			ids[p.PacketID] = true
		}
		var alias uint16
		if p.Props != nil {
			alias = p.Props.TopicAlias
		}
		if p.Topic != w.topic || alias != w.alias || string(p.Payload) != fmt.Sprint(i) || p.QoS != byte(1-i%2) ||
			p.Props == nil || p.Props.ContentType != "text/plain" {
			t.Fatalf("message %d: %q alias %d qos %d %q %+v, want %q alias %d", i, p.Topic, alias, p.QoS, p.Payload, p.Props, w.topic, w.alias)
		}
		if p.QoS == 1 {
			c.send5(&packet.Puback{PacketID: p.PacketID})
		}
		q := plain.publish()
		if q.Topic != topics[i] || q.Props == nil || q.Props.TopicAlias != 0 {
			t.Fatalf("client without aliases: message %d %q %+v", i, q.Topic, q.Props)
		}
		if q.QoS == 1 {
			plain.send5(&packet.Puback{PacketID: q.PacketID})
		}
	}
}

// paho.golang resolves the aliases the broker sets: its StandardRouter
// (which keeps the alias table; the Publish it hands over keeps the empty
// topic name) routes every message to the handler of its own topic.
func TestBroker_V5_topicAliasOutPaho(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	type got struct {
		route, payload string
		alias          bool
	}
	in := make(chan got, 100)
	router := paho5c.NewStandardRouter()
	for n := range 7 {
		route := fmt.Sprintf("pa/topic/%d", n)
		router.RegisterHandler(route, func(p *paho5c.Publish) {
			in <- got{route, string(p.Payload), p.Properties != nil && p.Properties.TopicAlias != nil}
		})
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	sub := paho5c.NewClient(paho5c.ClientConfig{Conn: conn, Router: router})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	five := uint16(5)
	if _, err := sub.Connect(ctx, &paho5c.Connect{ClientID: "sub", CleanStart: true, KeepAlive: 30,
		Properties: &paho5c.ConnectProperties{TopicAliasMaximum: &five}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Disconnect(&paho5c.Disconnect{}); <-sub.Done() })
	if _, err := sub.Subscribe(ctx, &paho5c.Subscribe{Subscriptions: []paho5c.SubscribeOptions{{Topic: "pa/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	pub := connectV5(t, addr, "pub", nil)
	var topics []string
	for i := range 20 {
		tp := fmt.Sprintf("pa/topic/%d", i%7)
		topics = append(topics, tp)
		pub.pub(t, &paho5c.Publish{Topic: tp, QoS: byte(i % 2), Payload: fmt.Appendf(nil, "%d", i)})
	}
	aliased := 0
	for i, tp := range topics {
		g := receive(t, in)
		if g.route != tp || g.payload != fmt.Sprint(i) {
			t.Fatalf("message %d: routed to %q, payload %q; want %q", i, g.route, g.payload, tp)
		}
		if g.alias {
			aliased++
		}
	}
	if want := 5 + 10; aliased != want { // 5 aliases set, then used by 10 of the 13 later messages
		t.Errorf("%d messages had an alias, want %d", aliased, want)
	}
}

// A PUBLISH that an alias would make larger than the client's Maximum
// Packet Size goes out without one [MQTT-3.1.2-24].
func TestBroker_V5_topicAliasOutMaxPacket(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	payload := make([]byte, 50)
	full, err := packet.V5.Append(nil, &packet.Publish{Topic: "big/topic", Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := connectRaw5(t, addr, "tight", &packet.Properties{TopicAliasMaximum: 4, MaximumPacketSize: uint32(len(full))})
	c.send5(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "big/#"}}})
	c.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{0}})
	pub := connectV5(t, addr, "pub", nil)
	for i, w := range []struct {
		payload int
		topic   string
		alias   uint16
	}{{50, "big/topic", 0}, {50, "big/topic", 0}, {10, "big/topic", 1}, {50, "", 1}} {
		pub.pub(t, &paho5c.Publish{Topic: "big/topic", Payload: payload[:w.payload]})
		p := c.publish()
		var alias uint16
		if p.Props != nil {
			alias = p.Props.TopicAlias
		}
		if p.Topic != w.topic || alias != w.alias || len(p.Payload) != w.payload {
			t.Fatalf("message %d: %q alias %d, %d bytes; want %q alias %d", i, p.Topic, alias, len(p.Payload), w.topic, w.alias)
		}
	}
}

// Options.TopicAliasOut < 0 sets no aliases.
func TestBroker_V5_topicAliasOutOff(t *testing.T) {
	opts := testOptions(t)
	opts.TopicAliasOut = -1
	_, addr := startBroker(t, opts)
	c, _ := connectRaw5(t, addr, "aliased", &packet.Properties{TopicAliasMaximum: 2})
	c.send5(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "#"}}})
	c.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{0}})
	pub := connectV5(t, addr, "pub", nil)
	for range 2 {
		pub.pub(t, &paho5c.Publish{Topic: "off/topic", Payload: []byte("x")})
		if p := c.publish(); p.Topic != "off/topic" || p.Props != nil && p.Props.TopicAlias != 0 {
			t.Fatalf("got %q %+v", p.Topic, p.Props)
		}
	}
}

// mosquitto_sub asked to announce a Topic Alias Maximum (-D CONNECT
// topic-alias-maximum) gets every message when the broker sets no aliases
// (Options.TopicAliasOut < 0, broker.limits.topic_alias_out: 0).
// libmosquitto 2.0.11 (Debian 12) cannot resolve an alias it receives: it
// ends the connection with a protocol error on the first PUBLISH with an
// empty topic name (mosquitto issue 1468; later libmosquitto resolves
// them), which is what this setting is for.
func TestBroker_V5_topicAliasOutOffMosquittoSub(t *testing.T) {
	tool := mosquittoTool(t, "mosquitto_sub")
	opts := testOptions(t)
	opts.TopicAliasOut = -1
	b, addr := startBroker(t, opts)
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var out strings.Builder
	sub := exec.CommandContext(ctx, tool, "-h", host, "-p", port, "-V", "5", "-D", "CONNECT", "topic-alias-maximum", "10",
		"-t", "al/#", "-q", "1", "-v", "-C", "4", "-i", uniqueID(t, "sub"))
	sub.Stdout, sub.Stderr = &out, &out
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "mosquitto_sub to subscribe", func() bool { return b.Stats().Subscriptions == 1 })
	pub := connectV5(t, addr, "pub", nil)
	for i, tp := range []string{"al/long/one", "al/long/one", "al/long/two", "al/long/one"} {
		pub.pub(t, &paho5c.Publish{Topic: tp, QoS: byte(i % 2), Payload: fmt.Appendf(nil, "%d", i)})
	}
	if err := sub.Wait(); err != nil {
		t.Fatalf("mosquitto_sub: %v\n%s", err, out.String())
	}
	if want := "al/long/one 0\nal/long/one 1\nal/long/two 2\nal/long/one 3\n"; out.String() != want {
		t.Errorf("mosquitto_sub printed %q, want %q", out.String(), want)
	}
}
