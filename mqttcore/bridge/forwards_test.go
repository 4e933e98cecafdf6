package bridge_test

import (
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// TestBridge_Forwards: Forwards says whether an out rule in force sends a
// local topic upstream (sensors/# out, cmd/# in).
func TestBridge_Forwards(t *testing.T) {
	o := options(t, nil, "tcp://127.0.0.1:1")
	o.Rules = []bridge.Rule{{Pattern: "sensors/#", Direction: bridge.Out}, {Pattern: "cmd/#", Direction: bridge.In}}
	b := newBridge(t, o)
	for topic, want := range map[string]bool{"sensors/a/status": true, "sensors": true, "cmd/x": false, "other": false} {
		if got := b.Forwards(topic); got != want {
			t.Errorf("Forwards(%q) = %v, want %v", topic, got, want)
		}
	}
}

// TestBridge_Outage_bootOffline: a bridge that has never connected is in
// an outage since Run once an attempt failed: Outage.Age grows.
func TestBridge_Outage_bootOffline(t *testing.T) {
	o := options(t, nil, "tcp://"+mqtttest.FreeAddr(t))
	o.Rules = []bridge.Rule{{Pattern: "sensors/#", Direction: bridge.Out, QoS: 0}}
	r := start(t, o)
	mqtttest.WaitFor(t, func() bool { return r.b.Stats().ConnectFailures > 0 }, "a failed attempt")
	time.Sleep(50 * time.Millisecond)
	if age := r.b.Stats().Outage.Age; age < 50*time.Millisecond {
		t.Errorf("Outage.Age = %v while never connected, want ≥ 50ms", age)
	}
}
