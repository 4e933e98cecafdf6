package bridge_test

import (
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline"
)

// TestBridge_MessageTTL: messages queued during an outage that outlive
// MessageTTL are dropped and counted as expired, not sent late; a message
// queued after the uplink returns is delivered.
func TestBridge_MessageTTL(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "gw/#")
	proxy := mqtttest.NewProxy(t, addr)
	proxy.SetMode(mqtttest.Refuse)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, "tcp://"+proxy.Addr())
	o.MessageTTL = 100 * time.Millisecond
	r := start(t, o)

	publishSeq(t, r.b, "sensors/stale", 0, 5, 1) // acknowledged: on disk, uplink down
	if got := q.Stats().Messages; got != 5 {
		t.Fatalf("queue depth %d during the outage, want 5", got)
	}
	time.Sleep(2 * o.MessageTTL) // let the queued messages outlive their TTL
	proxy.SetMode(mqtttest.Pass)
	r.awaitConnection(t)
	if err := publish(t, r.b, "c", "sensors/fresh", "on time", 1); err != nil {
		t.Fatal(err)
	}
	mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/sensors/fresh") == 1 }, "the fresh message upstream")
	if n := countOn(sub.Messages(), "gw/sensors/stale"); n != 0 {
		t.Errorf("%d expired messages were sent upstream", n)
	}
	// The drain deletes expired entries as it meets them, without waiting
	// for that commit: the count follows shortly.
	mqtttest.WaitFor(t, func() bool { return r.b.Stats().Dropped[offline.DroppedExpired] == 5 }, "5 expired messages counted")
}
