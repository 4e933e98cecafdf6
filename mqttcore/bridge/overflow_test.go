package bridge_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline"
)

// TestBridge_overflow: with the upstream down, a queue bounded at 10
// messages receives 25. drop_new acknowledges all 25 but keeps the first 10;
// drop_oldest keeps the last 10; either way the 15 lost are counted in Stats
// and in the metrics, and exactly the 10 kept reach the upstream, in order.
func TestBridge_overflow(t *testing.T) {
	cases := []struct {
		policy    offline.Overflow
		reason    string
		firstKept int
	}{
		{offline.DropNew, offline.DroppedOverflowNew, 0},
		{offline.DropOldest, offline.DroppedOverflowOldest, 15},
	}
	for _, tc := range cases {
		t.Run(tc.policy.String(), func(t *testing.T) {
			addr := mqtttest.StartMosquitto(t, "")
			sub := mqtttest.Subscribe(t, addr, "gw/#")
			proxy := mqtttest.NewProxy(t, addr)
			proxy.SetMode(mqtttest.Refuse)
			_, q := openQueue(t, t.TempDir(), offline.QueueOptions{MaxMessages: 10, Overflow: tc.policy})
			o := options(t, q, "tcp://"+proxy.Addr())
			o.Monitor = bridge.Monitor{TopicPrefix: "gateways/ovf", MetricsInterval: 50 * time.Millisecond}
			metrics := mqtttest.Subscribe(t, addr, "gateways/ovf/metrics")
			r := start(t, o)

			publishSeq(t, r.b, "sensors/o", 0, 25, 1) // every done(nil): counted, not an error
			if st := r.b.Stats(); st.Dropped[tc.reason] != 15 || st.StoreErrors != 0 {
				t.Fatalf("stats after overflow: %s", describe(st))
			}
			proxy.SetMode(mqtttest.Pass)
			r.awaitConnection(t)
			waitDrained(t, q)
			mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/sensors/o") >= 10 }, "10 messages upstream")
			if err := publish(t, r.b, "c", "sensors/end", "", 1); err != nil {
				t.Fatal(err)
			}
			mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/sensors/end") == 1 }, "end marker")
			got := sub.On("gw/sensors/o")
			if len(got) != 10 {
				t.Fatalf("upstream got %d messages, want the 10 kept", len(got))
			}
			for i, m := range got {
				if want := strconv.Itoa(tc.firstKept + i); string(m.Payload) != want {
					t.Fatalf("message %d upstream = %q, want %q", i, m.Payload, want)
				}
			}
			mqtttest.WaitFor(t, func() bool { return metricsDropped(t, metrics, tc.reason) == 15 },
				"metrics reporting 15 %s", tc.reason)
		})
	}
}

// metricsDropped returns dropped[reason] from the latest metrics message.
func metricsDropped(t *testing.T, sub *mqtttest.Subscriber, reason string) float64 {
	msgs := sub.Messages()
	if len(msgs) == 0 {
		return -1
	}
	var doc struct {
		Dropped map[string]float64 `json:"dropped"`
	}
	if err := jsonUnmarshal(msgs[len(msgs)-1].Payload, &doc); err != nil {
		t.Fatalf("metrics: %v", err)
	}
	return doc.Dropped[reason]
}

// TestBridge_QoS0_droppedWhileOffline: QoS 0 messages bypass the queue; with
// the uplink down they are acknowledged, dropped and counted.
func TestBridge_QoS0_droppedWhileOffline(t *testing.T) {
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	b, err := bridge.New(options(t, q, "tcp://127.0.0.1:1")) // never run
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := publish(t, b, "c", "sensors/zero", "x", 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := publish(t, b, "c", "sensors/one", "x", 1); err != nil {
		t.Fatal(err)
	}
	st := b.Stats()
	if st.Dropped[bridge.DroppedOffline] != 3 || q.Stats().Messages != 1 {
		t.Fatalf("dropped %v, queue depth %d; want 3 offline drops and the QoS 1 message queued", st.Dropped, q.Stats().Messages)
	}
}
