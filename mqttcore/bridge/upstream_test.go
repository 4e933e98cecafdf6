package bridge_test

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline"
)

// TestBridge_SetUpstream: new upstream settings drop the connection and the
// bridge reconnects with them (Stats.Generation says which settings the
// connection was made with); invalid ones are refused and the old stay.
func TestBridge_SetUpstream(t *testing.T) {
	a, b := mqtttest.StartMosquitto(t, ""), mqtttest.StartMosquitto(t, "")
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, "tcp://"+a)
	r := start(t, o)
	r.awaitConnection(t)
	if st := r.b.Stats(); st.Generation != 1 {
		t.Fatalf("generation %d before any SetUpstream, want 1", st.Generation)
	}
	if _, err := r.b.SetUpstream(bridge.Upstream{ClientID: o.ClientID}); err == nil {
		t.Fatal("SetUpstream without addresses accepted")
	}
	gen, err := r.b.SetUpstream(bridge.Upstream{Addresses: []string{"tcp://" + b}, ClientID: o.ClientID + "-b"})
	if err != nil || gen != 2 {
		t.Fatalf("SetUpstream = %d, %v; want 2, nil", gen, err)
	}
	mqtttest.WaitFor(t, func() bool {
		st := r.b.Stats()
		return st.Connected && st.Generation == gen && strings.HasSuffix(st.Address, b)
	}, "connected to the new upstream")
	sub := mqtttest.Subscribe(t, b, "gw/#")
	if err := publish(t, r.b, "c", "sensors/x", "after", 1); err != nil {
		t.Fatal(err)
	}
	mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/sensors/x") == 1 }, "message on the new upstream")
}
