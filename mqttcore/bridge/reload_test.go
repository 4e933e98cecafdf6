package bridge_test

import (
	"testing"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline"
)

// TestBridge_SetRules: replacing the rules on a connected bridge moves the
// upstream subscription (the old in filter stops delivering, the new one
// delivers) and the out rules apply to the next local message, without a
// reconnect. Rules the bridge cannot serve are refused and the old stay.
func TestBridge_SetRules(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "#")
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, "tcp://"+addr)
	local := o.Local.(*fakeLocal)
	r := start(t, o)
	r.awaitConnection(t)
	waitSubscribed(t, addr, "gw/cmd/probe", local)

	err := r.b.SetRules([]bridge.Rule{
		{Pattern: "metrics/#", Direction: bridge.Out, QoS: 1, RemotePrefix: "gw2/"},
		{Pattern: "ctl/#", Direction: bridge.In, QoS: 1, RemotePrefix: "gw/"},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, addr, "gw/ctl/probe", local)

	// The old in filter is unsubscribed: a command on it no longer arrives,
	// while one on the new filter, published after it, does.
	pub := mqtttest.Connect(t, addr, mqtttest.ClientOptions{})
	pub.Publish("gw/cmd/old", 1, false, "old rule").Wait()
	pub.Publish("gw/ctl/new", 1, false, "new rule").Wait()
	mqtttest.WaitFor(t, func() bool { return len(onTopic(local.got(), "ctl/new")) == 1 }, "command on the new in rule")
	if n := len(onTopic(local.got(), "cmd/old")); n != 0 {
		t.Errorf("the removed in rule still delivered %d commands", n)
	}

	// Out: the new rule forwards, the old one no longer does.
	if err := publish(t, r.b, "c", "metrics/cpu", "new out", 1); err != nil {
		t.Fatal(err)
	}
	if err := publish(t, r.b, "c", "sensors/x", "old out", 1); err != nil {
		t.Fatal(err)
	}
	mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw2/metrics/cpu") == 1 }, "message on the new out rule")
	if n := countOn(sub.Messages(), "gw/sensors/x"); n != 0 {
		t.Errorf("the removed out rule still forwarded %d messages", n)
	}
	if st := r.b.Stats(); st.Connects != 1 {
		t.Errorf("SetRules reconnected: %d connects", st.Connects)
	}

	// An in rule on a bridge without a local broker is refused.
	o2 := options(t, q, "tcp://"+addr)
	o2.Local = nil
	o2.Rules = o2.Rules[:1]
	b2 := newBridge(t, o2)
	if err := b2.SetRules([]bridge.Rule{{Pattern: "x/#", Direction: bridge.In, QoS: 1}}); err == nil {
		t.Error("SetRules accepted an in rule without a local broker")
	}
}
