package bridge_test

import (
	"testing"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline"
)

// TestBridge_LiveFirst: with LiveFirst, a message published while a
// rate-limited backlog drains reaches the upstream before the backlog has
// finished; the backlog still arrives complete and in order.
func TestBridge_LiveFirst(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "gw/#")
	proxy := mqtttest.NewProxy(t, addr)
	proxy.SetMode(mqtttest.Refuse)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, "tcp://"+proxy.Addr())
	o.LiveFirst = true
	o.DrainRate = 500 // the 1000-message backlog takes about 2 s
	r := start(t, o)

	const backlog = 1000
	publishSeq(t, r.b, "sensors/old", 0, backlog, 1) // queued while the uplink is down
	proxy.SetMode(mqtttest.Pass)
	r.awaitConnection(t)
	mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/sensors/old") > 0 }, "the backlog starts draining")
	if err := publish(t, r.b, "c", "sensors/live", "fresh", 1); err != nil {
		t.Fatal(err)
	}
	mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/sensors/live") == 1 }, "the live message upstream")
	if old := countOn(sub.Messages(), "gw/sensors/old"); old >= backlog {
		t.Errorf("the live message arrived after all %d backlog messages: it waited behind the backlog", backlog)
	} else {
		t.Logf("live message arrived after %d of %d backlog messages", old, backlog)
	}
	if dups := waitSequence(t, sub, "gw/sensors/old", backlog); dups != 0 {
		t.Errorf("%d duplicates on a healthy link", dups)
	}
}
