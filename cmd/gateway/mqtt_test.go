package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// tokenWait bounds one Paho operation (connect, subscribe, a publish's ack).
const tokenWait = 20 * time.Second

// client is a Paho MQTT 3.1.1 client that records every message it receives
// (through subscriptions and, for a resumed session, the default handler)
// and counts lost connections.
type client struct {
	paho.Client
	t    testing.TB
	lost atomic.Int32

	mu   sync.Mutex
	msgs []mqtttest.Message
}

// clientOpts configures connect. The zero value: generated id, clean session.
type clientOpts struct {
	ID    string // "" = generated, clean session
	Clean bool   // with an ID: clean session or persistent

	Username, Password string // none when Username is ""
}

var clientSeq atomic.Int64

// connect connects a Paho client to url ("tcp://host:port" or
// "ws://host:port/path"), without automatic reconnection. It is
// disconnected when the test ends.
func connect(t testing.TB, url string, o clientOpts) *client {
	t.Helper()
	c := &client{t: t}
	id := o.ID
	if id == "" {
		id = fmt.Sprintf("e2e-%d", clientSeq.Add(1))
		o.Clean = true
	}
	opts := paho.NewClientOptions().
		AddBroker(url).
		SetClientID(id).
		SetCleanSession(o.Clean).
		SetProtocolVersion(4).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(true).
		SetConnectTimeout(10 * time.Second).
		SetKeepAlive(30 * time.Second).
		SetWriteTimeout(10 * time.Second).
		SetDefaultPublishHandler(c.record).
		SetConnectionLostHandler(func(paho.Client, error) { c.lost.Add(1) })
	if o.Username != "" {
		opts.SetUsername(o.Username).SetPassword(o.Password)
	}
	c.Client = paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(tokenWait) || tok.Error() != nil {
		t.Fatalf("paho connect to %s as %q: %v", url, id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}

// connectLocal connects to the gateway's MQTT listener.
func connectLocal(t testing.TB, p *proc, o clientOpts) *client {
	t.Helper()
	return connect(t, "tcp://"+p.Addr, o)
}

func (c *client) record(_ paho.Client, m paho.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, mqtttest.MessageOf(m))
}

// sub subscribes to filter at qos; messages go to the recorder.
func (c *client) sub(filter string, qos byte) {
	c.t.Helper()
	tok := c.Subscribe(filter, qos, c.record)
	if !tok.WaitTimeout(tokenWait) || tok.Error() != nil {
		c.t.Fatalf("paho subscribe %q: %v", filter, tok.Error())
	}
}

// pub publishes and waits for the flow to complete (PUBACK / PUBCOMP).
func (c *client) pub(topic string, qos byte, retain bool, payload string) {
	c.t.Helper()
	tok := c.Publish(topic, qos, retain, payload)
	if !tok.WaitTimeout(tokenWait) || tok.Error() != nil {
		c.t.Fatalf("paho publish %q: %v", topic, tok.Error())
	}
}

// messages returns a copy of what was received so far.
func (c *client) messages() []mqtttest.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]mqtttest.Message(nil), c.msgs...)
}

// on returns the messages received on topic.
func (c *client) on(topic string) []mqtttest.Message {
	var out []mqtttest.Message
	for _, m := range c.messages() {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// last returns the last message on topic and whether there is one.
func (c *client) last(topic string) (mqtttest.Message, bool) {
	ms := c.on(topic)
	if len(ms) == 0 {
		return mqtttest.Message{}, false
	}
	return ms[len(ms)-1], true
}

// waitTopic waits for a message on topic and returns the last one.
func (c *client) waitTopic(topic string) mqtttest.Message {
	c.t.Helper()
	mqtttest.WaitFor(c.t, func() bool { _, ok := c.last(topic); return ok }, "a message on %q", topic)
	m, _ := c.last(topic)
	return m
}

//

// seqPayload is the payload of numbered test message i of a run: the
// number, then padding to size bytes.
func seqPayload(run string, i, size int) string {
	s := run + "-" + strconv.Itoa(i)
	if len(s) < size {
		s += "-" + strings.Repeat("x", size-len(s)-1)
	}
	return s
}

// seqOf parses a seqPayload of run; ok is false for anything else.
func seqOf(run string, payload []byte) (int, bool) {
	rest, ok := strings.CutPrefix(string(payload), run+"-")
	if !ok {
		return 0, false
	}
	num, _, _ := strings.Cut(rest, "-")
	n, err := strconv.Atoi(num)
	return n, err == nil
}

// seqs returns the numbers of run's messages on topic, in arrival order.
func seqs(msgs []mqtttest.Message, topic, run string) []int {
	var out []int
	for _, m := range msgs {
		if m.Topic != topic {
			continue
		}
		if n, ok := seqOf(run, m.Payload); ok {
			out = append(out, n)
		}
	}
	return out
}

// distinct counts the distinct numbers in got.
func distinct(got []int) int {
	seen := map[int]bool{}
	for _, n := range got {
		seen[n] = true
	}
	return len(seen)
}

// missing returns the numbers of want that are not in got.
func missing(want, got []int) []int {
	seen := map[int]bool{}
	for _, n := range got {
		seen[n] = true
	}
	var out []int
	for _, n := range want {
		if !seen[n] {
			out = append(out, n)
		}
	}
	return out
}

// firstOrderViolation checks that the first arrivals of the numbers in got
// come in increasing order (re-deliveries of earlier numbers, allowed for
// QoS 1, are skipped). It returns "" or a description of the first
// violation.
func firstOrderViolation(got []int) string {
	seen := map[int]bool{}
	prev := -1
	for i, n := range got {
		if seen[n] {
			continue
		}
		seen[n] = true
		if n < prev {
			return fmt.Sprintf("message %d arrived first at position %d, after %d", n, i, prev)
		}
		prev = n
	}
	return ""
}

// duplicates counts arrivals beyond the first of each number.
func duplicates(got []int) int { return len(got) - distinct(got) }

// span returns 0..n-1.
func span(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

//

// checkReading checks a sensor reading payload against the contract:
// {"value": <number>, "unit": "<string>", "ts": "<RFC 3339 UTC, ms>"}. It
// returns the value and unit.
func checkReading(t testing.TB, topic string, payload []byte) (value float64, unit string) {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		t.Fatalf("%s: payload %q is not a JSON object: %v", topic, payload, err)
	}
	for _, k := range []string{"value", "unit", "ts"} {
		if _, ok := raw[k]; !ok {
			t.Fatalf("%s: payload %s has no %q", topic, payload, k)
		}
	}
	if err := json.Unmarshal(raw["value"], &value); err != nil || math.IsNaN(value) {
		t.Fatalf("%s: \"value\" is not a number in %s", topic, payload)
	}
	if err := json.Unmarshal(raw["unit"], &unit); err != nil {
		t.Fatalf("%s: \"unit\" is not a string in %s", topic, payload)
	}
	var ts string
	if err := json.Unmarshal(raw["ts"], &ts); err != nil {
		t.Fatalf("%s: \"ts\" is not a string in %s", topic, payload)
	}
	when, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		t.Fatalf("%s: \"ts\" %q is not RFC 3339: %v", topic, ts, err)
	}
	if !strings.HasSuffix(ts, "Z") {
		t.Errorf("%s: \"ts\" %q is not in UTC (no Z)", topic, ts)
	}
	if _, frac, ok := strings.Cut(strings.TrimSuffix(ts, "Z"), "."); !ok || len(frac) != 3 {
		t.Errorf("%s: \"ts\" %q does not have millisecond precision", topic, ts)
	}
	if d := time.Since(when); d < -time.Minute || d > 10*time.Minute {
		t.Errorf("%s: \"ts\" %q is %v away from now", topic, ts, d)
	}
	return value, unit
}

// jsonObject decodes a JSON object payload or fails the test.
func jsonObject(t testing.TB, what string, payload []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("%s: %q is not a JSON object: %v", what, payload, err)
	}
	return m
}

// stateOf returns the "state" of a status payload ("" when unreadable).
func stateOf(payload []byte) string {
	var s struct {
		State string `json:"state"`
	}
	_ = json.Unmarshal(payload, &s)
	return s.State
}

// waitFor polls cond until it holds, failing the test after bound with what
// and, when detail is not nil, detail() evaluated at the time of failure.
func waitFor(t testing.TB, bound time.Duration, what string, cond func() bool, detail func() string) {
	t.Helper()
	if mqtttest.Poll(bound, cond) {
		return
	}
	msg := ""
	if detail != nil {
		msg = ": " + detail()
	}
	t.Fatalf("timed out after %v waiting for %s%s", bound, what, msg)
}

// tsOf returns the parsed "ts" of a reading payload.
func tsOf(t testing.TB, payload []byte) time.Time {
	t.Helper()
	var p struct {
		TS string `json:"ts"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatalf("payload %q: %v", payload, err)
	}
	ts, err := time.Parse(time.RFC3339Nano, p.TS)
	if err != nil {
		t.Fatalf("ts %q: %v", p.TS, err)
	}
	return ts
}

// roundTo rounds v to n decimals.
func roundTo(v float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(v*p) / p
}

// splitAddr splits "host:port".
func splitAddr(t testing.TB, addr string) (host, port string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("split %q: %v", addr, err)
	}
	return host, port
}
