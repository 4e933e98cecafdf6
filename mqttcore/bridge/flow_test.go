package bridge_test

import (
	"testing"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline"
)

// upstreams are the independent brokers the basic flows run against.
var upstreams = []struct {
	name  string
	start func(t *testing.T) string
}{
	{"mosquitto", func(t *testing.T) string { return mqtttest.StartMosquitto(t, "") }},
	{"mochi", func(t *testing.T) string { return mqtttest.StartMochi(t) }},
}

// TestBridge_Out: local messages matching the out rule reach an upstream
// subscriber under the remote prefix, at min(message QoS, rule QoS), in
// order; the queue ends empty; other topics stay local.
func TestBridge_Out(t *testing.T) {
	for _, up := range upstreams {
		t.Run(up.name, func(t *testing.T) {
			addr := up.start(t)
			sub := mqtttest.Subscribe(t, addr, "#")
			_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
			o := options(t, q, "tcp://"+addr)
			o.Rules = append(o.Rules, bridge.Rule{Pattern: "slow/#", Direction: bridge.Out, QoS: 1, LocalPrefix: "", RemotePrefix: "gw/q1/"})
			r := start(t, o)
			r.awaitConnection(t)

			publishSeq(t, r.b, "sensors/a/temp", 0, 100, 1)
			for qos := byte(0); qos <= 2; qos++ {
				if err := publish(t, r.b, "c", "sensors/qos", string('0'+qos), qos); err != nil {
					t.Fatal(err)
				}
			}
			if err := publish(t, r.b, "c", "slow/x", "capped", 2); err != nil {
				t.Fatal(err)
			}
			if err := publish(t, r.b, "c", "elsewhere/x", "stays local", 1); err != nil {
				t.Fatal(err)
			}
			mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/q1/slow/x") == 1 }, "capped message upstream")
			waitDrained(t, q)

			mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/sensors/qos") == 3 }, "three qos messages upstream")
			if dups := waitSequence(t, sub, "gw/sensors/a/temp", 100); dups != 0 {
				t.Errorf("%d duplicates on a healthy link", dups)
			}
			for i, m := range sub.On("gw/sensors/qos") {
				if int(m.QoS) != i || string(m.Payload) != string(rune('0'+i)) {
					t.Errorf("qos message %d: got QoS %d payload %q", i, m.QoS, m.Payload)
				}
			}
			if m := sub.On("gw/q1/slow/x"); m[0].QoS != 1 {
				t.Errorf("rule QoS 1 did not cap a QoS 2 message: got QoS %d", m[0].QoS)
			}
			msgs := sub.Messages()
			if n := countOn(msgs, "gw/elsewhere/x") + countOn(msgs, "elsewhere/x"); n != 0 {
				t.Errorf("non-matching topic forwarded %d times", n)
			}
			st := r.b.Stats()
			if !st.Connected || st.Forwarded != 104 || st.Address != "tcp://"+addr {
				t.Errorf("stats: %s", describe(st))
			}
		})
	}
}

// TestBridge_In: a message published upstream on the remote side of the in
// rule reaches the local broker under the local topic with origin "$bridge",
// and is acknowledged (not redelivered after a reconnect).
func TestBridge_In(t *testing.T) {
	for _, up := range upstreams {
		t.Run(up.name, func(t *testing.T) {
			addr := up.start(t)
			_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
			o := options(t, q, "tcp://"+addr)
			local := o.Local.(*fakeLocal)
			r := start(t, o)
			r.awaitConnection(t)
			waitSubscribed(t, addr, "gw/cmd/probe", local)

			pub := mqtttest.Connect(t, addr, mqtttest.ClientOptions{})
			for qos := byte(0); qos <= 2; qos++ {
				tok := pub.Publish("gw/cmd/valve", qos, false, []byte{'0' + qos})
				tok.Wait()
				if tok.Error() != nil {
					t.Fatal(tok.Error())
				}
			}
			pub.Publish("gw/other", 1, false, "not bridged").Wait()
			mqtttest.WaitFor(t, func() bool { return len(onTopic(local.got(), "cmd/valve")) == 3 }, "three commands locally")
			for i, m := range onTopic(local.got(), "cmd/valve") {
				if m.origin != "$bridge" || int(m.p.QoS) != i || string(m.p.Payload) != string(rune('0'+i)) {
					t.Errorf("command %d: origin %q QoS %d payload %q", i, m.origin, m.p.QoS, m.p.Payload)
				}
			}
			if got := r.b.Stats().Received; got < 3 {
				t.Errorf("Stats.Received = %d, want >= 3", got)
			}

			// A new connection with the same session gets nothing again:
			// every message was acknowledged.
			r.stop(t)
			before := len(local.got())
			r2 := start(t, o)
			r2.awaitConnection(t)
			waitSubscribed(t, addr, "gw/cmd/probe2", local)
			if got := len(onTopic(local.got(), "cmd/valve")); got != 3 {
				t.Errorf("after reconnect %d commands locally, want still 3 (total before %d)", got, before)
			}
		})
	}
}

// waitSubscribed publishes probes on probeTopic until one reaches local,
// proving the bridge's upstream subscription is in place.
func waitSubscribed(t *testing.T, addr, probeTopic string, local *fakeLocal) {
	t.Helper()
	pub := mqtttest.Connect(t, addr, mqtttest.ClientOptions{})
	local2 := probeTopic[len("gw/"):]
	mqtttest.WaitFor(t, func() bool {
		pub.Publish(probeTopic, 0, false, "probe").Wait()
		return mqtttest.Poll(100e6, func() bool { return len(onTopic(local.got(), local2)) > 0 })
	}, "upstream subscription")
}

func onTopic(msgs []localMsg, topic string) []localMsg {
	var out []localMsg
	for _, m := range msgs {
		if m.p.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// TestBridge_OnPublish_noLoop: a message whose origin is the bridge's own
// (it came from the upstream) is acknowledged and not sent back, even when
// its topic matches an out rule.
func TestBridge_OnPublish_noLoop(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "#")
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, "tcp://"+addr)
	o.Rules = append(o.Rules, bridge.Rule{Pattern: "cmd/#", Direction: bridge.Out, QoS: 1, RemotePrefix: "gw/"})
	r := start(t, o)
	r.awaitConnection(t)

	if err := publish(t, r.b, "$bridge", "sensors/looped", "x", 1); err != nil {
		t.Fatal(err)
	}
	if err := publish(t, r.b, "$bridge", "cmd/looped", "x", 0); err != nil {
		t.Fatal(err)
	}
	if err := publish(t, r.b, "app", "sensors/marker", "m", 1); err != nil {
		t.Fatal(err)
	}
	mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/sensors/marker") == 1 }, "marker upstream")
	if n := countOn(sub.Messages(), "gw/sensors/looped") + countOn(sub.Messages(), "gw/cmd/looped"); n != 0 {
		t.Errorf("%d messages from origin $bridge went back upstream", n)
	}
	if st := q.Stats(); st.Appended+st.Unwritten != 1 {
		t.Errorf("queue appended %d (+%d never written), want 1 (the marker only)", st.Appended, st.Unwritten)
	}
}
