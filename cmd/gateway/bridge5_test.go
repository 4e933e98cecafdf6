package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	paho5 "github.com/eclipse/paho.golang/paho"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// TestGateway_Bridge_MQTT5: the real binary with bridge.protocol "5" to
// Mosquitto, with paho.golang MQTT 5.0 clients on both sides: a local
// publisher's user properties, content type and correlation data reach
// the upstream subscriber with a Message Expiry Interval from
// bridge.queue.ttl; a command published on the upstream with properties
// reaches a local MQTT 5.0 subscriber with them; the metrics say protocol 5.
func TestGateway_Bridge_MQTT5(t *testing.T) {
	up := mqtttest.StartMosquitto(t, "")
	upSub := dialV5(t, up, "cloud-sub")
	upSub.subscribe(t, "gw/#", "gateways/test/metrics")
	p := startGateway(t, bridgeConfig(up, 1, "  protocol: \"5\"\n  session_expiry: 1h\n  queue: {ttl: 10m}\n"))
	waitLogV5(t, upSub, "gateways/test/metrics")

	local := dialV5(t, p.Addr, "local-app")
	local.subscribe(t, "cmd/#")
	local.publish(t, &paho5.Publish{Topic: "sensors/door", QoS: 1, Payload: []byte(`{"open":true}`), Properties: &paho5.PublishProperties{
		ContentType: "application/json", CorrelationData: []byte("c-1"), User: paho5.UserProperties{{Key: "room", Value: "hall"}},
	}})
	m := upSub.await(t, "gw/sensors/door")
	pr := m.Properties
	if pr == nil || pr.ContentType != "application/json" || string(pr.CorrelationData) != "c-1" || pr.User.Get("room") != "hall" {
		t.Fatalf("upstream got properties %+v", pr)
	}
	if pr.MessageExpiry == nil || *pr.MessageExpiry > 600 || *pr.MessageExpiry < 590 {
		t.Errorf("upstream message expiry %v, want the 10m TTL left", pr.MessageExpiry)
	}

	cloud := dialV5(t, up, "cloud-pub")
	ctx, cancel := context.WithTimeout(context.Background(), statusWait)
	defer cancel()
	// The bridge's subscription may still be on its way: publish until one arrives.
	var got *paho5.Publish
	mqtttest.WaitFor(t, func() bool {
		cloud.publishCtx(ctx, t, &paho5.Publish{Topic: "gw/cmd/lock", QoS: 1, Payload: []byte("close"), Properties: &paho5.PublishProperties{
			ContentType: "text/plain", User: paho5.UserProperties{{Key: "by", Value: "cloud"}},
		}})
		got = local.next(200 * time.Millisecond)
		return got != nil
	}, "command from the upstream delivered locally")
	if got.Topic != "cmd/lock" || got.Properties == nil || got.Properties.ContentType != "text/plain" || got.Properties.User.Get("by") != "cloud" {
		t.Fatalf("local subscriber got %s with properties %+v", got.Topic, got.Properties)
	}

	var metrics struct {
		Uplink struct {
			Protocol string `json:"protocol"`
		} `json:"uplink"`
	}
	if err := json.Unmarshal(upSub.await(t, "gateways/test/metrics").Payload, &metrics); err != nil || metrics.Uplink.Protocol != "5" {
		t.Errorf("metrics uplink.protocol %q (%v), want 5", metrics.Uplink.Protocol, err)
	}
}

// TestBridge_MQTT5_QoS2_ExactlyOnceAcrossKill9 is
// TestBridge_QoS2_ExactlyOnceAcrossKill9 with bridge.protocol "5": the
// session kept by its Session Expiry Interval keeps the QoS 2 state too.
func TestBridge_MQTT5_QoS2_ExactlyOnceAcrossKill9(t *testing.T) {
	qos2AcrossKill9(t, "  inflight: 16\n  protocol: \"5\"\n")
}

// TestBridge_MQTT5_QoS2_ReceiveMaximum: with bridge.protocol "5" a
// bridge.inflight above Mosquitto's max_inflight_messages (20, its Receive
// Maximum) is safe: the upstream's Receive Maximum bounds the window, so
// a QoS 2 backlog all arrives, once each. (Over 3.1.1, Mosquitto PUBRECs
// and discards QoS 2 messages beyond its limit: TestBridge_QoS2_DefaultInflight.)
func TestBridge_MQTT5_QoS2_ReceiveMaximum(t *testing.T) {
	const n = 200
	up := mqtttest.StartMosquitto(t, "")
	px := mqtttest.NewProxy(t, up)
	sub := mqtttest.SubscribeWith(t, up, mqtttest.ClientOptions{ClientID: "e2e-up-qos2-rm", CleanSession: false}, "gw/sensors/#")
	status := mqtttest.Subscribe(t, up, statusTopic)
	p := startGateway(t, bridgeConfig(px.Addr(), 2, "  inflight: 200\n  protocol: \"5\"\n"))
	waitState(t, status, "online")

	px.SetMode(mqtttest.Blackhole)
	c := connectLocal(t, p, clientOpts{})
	publishAll(t, c, "sensors/rm", "r", 2, n, 32)
	px.SetMode(mqtttest.Pass)

	local := connectLocal(t, p, clientOpts{})
	local.sub(queueTopic, 0)
	waitQueue(t, local, drainWait, "the queue to empty", isEmpty)
	local.pub("sensors/rm", 2, false, "end-0")
	waitUpstream(t, sub, "gw/sensors/rm", "end", []int{0}, drainWait)

	got := seqs(sub.Messages(), "gw/sensors/rm", "r")
	if m := missing(span(n), got); len(m) != 0 {
		t.Errorf("QoS 2 backlog with inflight 200 over MQTT 5: %d of %d never reached the upstream subscriber: %v", len(m), n, m)
	}
	if d := duplicates(got); d != 0 {
		t.Errorf("%d duplicates: %v", d, dupList(got))
	}
}

// v5Client is a paho.golang MQTT 5.0 client and what it received.
type v5Client struct {
	c  *paho5.Client
	in chan *paho5.Publish
	mu sync.Mutex
	by map[string][]*paho5.Publish
}

// dialV5 connects a paho.golang client to addr ("host:port") as id; it
// disconnects when the test ends.
func dialV5(t *testing.T, addr, id string) *v5Client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	v := &v5Client{in: make(chan *paho5.Publish, 1000), by: map[string][]*paho5.Publish{}}
	v.c = paho5.NewClient(paho5.ClientConfig{Conn: nc, OnPublishReceived: []func(paho5.PublishReceived) (bool, error){
		func(pr paho5.PublishReceived) (bool, error) {
			v.mu.Lock()
			v.by[pr.Packet.Topic] = append(v.by[pr.Packet.Topic], pr.Packet)
			v.mu.Unlock()
			select {
			case v.in <- pr.Packet:
			default:
			}
			return true, nil
		},
	}})
	ctx, cancel := context.WithTimeout(context.Background(), statusWait)
	defer cancel()
	if _, err := v.c.Connect(ctx, &paho5.Connect{ClientID: id, CleanStart: true, KeepAlive: 30}); err != nil {
		_ = nc.Close()
		t.Fatalf("paho.golang connect to %s: %v", addr, err)
	}
	t.Cleanup(func() {
		_ = v.c.Disconnect(&paho5.Disconnect{})
		select {
		case <-v.c.Done():
		case <-time.After(5 * time.Second):
		}
	})
	return v
}

func (v *v5Client) subscribe(t *testing.T, filters ...string) {
	t.Helper()
	var subs []paho5.SubscribeOptions
	for _, f := range filters {
		subs = append(subs, paho5.SubscribeOptions{Topic: f, QoS: 1})
	}
	ctx, cancel := context.WithTimeout(context.Background(), statusWait)
	defer cancel()
	if _, err := v.c.Subscribe(ctx, &paho5.Subscribe{Subscriptions: subs}); err != nil {
		t.Fatalf("subscribe %v: %v", filters, err)
	}
}

func (v *v5Client) publish(t *testing.T, p *paho5.Publish) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), statusWait)
	defer cancel()
	v.publishCtx(ctx, t, p)
}

func (v *v5Client) publishCtx(ctx context.Context, t *testing.T, p *paho5.Publish) {
	t.Helper()
	if r, err := v.c.Publish(ctx, p); err != nil || r != nil && r.ReasonCode >= 0x80 {
		t.Fatalf("publish %s: %v (%+v)", p.Topic, err, r)
	}
}

// await waits for a message on topic and returns the last one.
func (v *v5Client) await(t *testing.T, topic string) *paho5.Publish {
	t.Helper()
	var m *paho5.Publish
	mqtttest.WaitFor(t, func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		if ms := v.by[topic]; len(ms) > 0 {
			m = ms[len(ms)-1]
		}
		return m != nil
	}, "message on %s", topic)
	return m
}

// next returns the next message received within d, or nil.
func (v *v5Client) next(d time.Duration) *paho5.Publish {
	select {
	case m := <-v.in:
		return m
	case <-time.After(d):
		return nil
	}
}

// waitLogV5 waits for the first message on topic: the bridge is up.
func waitLogV5(t *testing.T, v *v5Client, topic string) { t.Helper(); v.await(t, topic) }

// TestRemote_commands_MQTT5ResponseTopic: with bridge.protocol "5", a
// command published on the upstream with a Response Topic and Correlation
// Data (paho.golang) is answered there too, with the same Correlation Data,
// besides the usual <prefix>/cmd/<name>/result.
func TestRemote_commands_MQTT5ResponseTopic(t *testing.T) {
	up := mqtttest.StartMosquitto(t, "")
	op := dialV5(t, up, "operator5")
	op.subscribe(t, "replies/#", "gateways/test/cmd/status/result", statusTopic)
	startGateway(t, remoteConfig(up, remoteOn, "5s", "  protocol: \"5\"\n"))
	op.await(t, statusTopic)

	// The bridge's subscription may still be on its way: ask until answered.
	ctx, cancel := context.WithTimeout(context.Background(), remoteWait)
	defer cancel()
	var reply *paho5.Publish
	n := 0
	mqtttest.WaitFor(t, func() bool {
		n++
		id := fmt.Sprintf("r5-%d", n)
		op.publishCtx(ctx, t, &paho5.Publish{Topic: rtCmd + "status", QoS: 1, Payload: []byte(`{"id":"` + id + `"}`),
			Properties: &paho5.PublishProperties{ResponseTopic: "replies/op", CorrelationData: []byte("corr-" + id)}})
		for m := op.next(300 * time.Millisecond); m != nil; m = op.next(50 * time.Millisecond) {
			if m.Topic == "replies/op" {
				reply = m
				return true
			}
		}
		return false
	}, "a reply on the response topic")
	var res struct {
		ID     string         `json:"id"`
		OK     bool           `json:"ok"`
		Result map[string]any `json:"result"`
	}
	if err := json.Unmarshal(reply.Payload, &res); err != nil || !res.OK || res.Result["uptime_seconds"] == nil {
		t.Fatalf("reply %s (%v)", reply.Payload, err)
	}
	if reply.Properties == nil || string(reply.Properties.CorrelationData) != "corr-"+res.ID {
		t.Errorf("reply to %s carries correlation data %+v, want corr-%s", res.ID, reply.Properties, res.ID)
	}
	mqtttest.WaitFor(t, func() bool {
		op.mu.Lock()
		defer op.mu.Unlock()
		for _, m := range op.by["gateways/test/cmd/status/result"] {
			if strings.Contains(string(m.Payload), `"id":"`+res.ID+`"`) {
				return true
			}
		}
		return false
	}, "the same answer on the result topic")

	// The README's operator example: mosquitto_rr, request and response.
	host, port, _ := net.SplitHostPort(up)
	out, err := exec.CommandContext(ctx, mosquittoTool(t, "mosquitto_rr"), "-V", "5", "-h", host, "-p", port,
		"-t", rtCmd+"queue", "-e", "replies/rr", "-m", `{"id":"rr-1"}`, "-W", "20").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"id":"rr-1"`) || !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("mosquitto_rr: %v\n%s", err, out)
	}
}
