package bridge_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline"
)

type statusDoc struct {
	State    string `json:"state"`
	TS       string `json:"ts"`
	Reason   string `json:"reason"`
	Version  string `json:"version"`
	ClientID string `json:"client_id"`
}

func statuses(t *testing.T, msgs []mqtttest.Message) []statusDoc {
	t.Helper()
	var out []statusDoc
	for _, m := range msgs {
		var s statusDoc
		if err := json.Unmarshal(m.Payload, &s); err != nil {
			t.Fatalf("status payload %q: %v", m.Payload, err)
		}
		out = append(out, s)
	}
	return out
}

// retainedStatus subscribes anew and returns the retained status.
func retainedStatus(t *testing.T, addr, topic string) (statusDoc, mqtttest.Message) {
	t.Helper()
	s := mqtttest.Subscribe(t, addr, topic)
	mqtttest.WaitFor(t, func() bool { return s.Len() > 0 }, "retained status")
	m := s.Messages()[0]
	if !m.Retained || m.QoS != 1 {
		t.Errorf("status not retained at QoS 1: %+v", m)
	}
	defer s.Disconnect()
	return statuses(t, []mqtttest.Message{m})[0], m
}

// TestBridge_status: <prefix>/status is "online" (retained) on connect, the
// will "offline" when the link is cut abruptly, "online" again after the
// reconnection, and "offline" with reason "shutdown" (retained) after a clean
// shutdown.
func TestBridge_status(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	const topic = "gateways/pi-test/status"
	live := mqtttest.Subscribe(t, addr, topic)
	proxy := mqtttest.NewProxy(t, addr)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, "tcp://"+proxy.Addr())
	o.Monitor = bridge.Monitor{TopicPrefix: "gateways/pi-test", MetricsInterval: -1}
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 678e6, time.UTC)
	o.Now = func() time.Time { return fixed }
	r := start(t, o)
	r.awaitConnection(t)

	mqtttest.WaitFor(t, func() bool { return live.Len() == 1 }, "online status")
	if s, _ := retainedStatus(t, addr, topic); s.State != "online" || s.TS != "2030-01-02T03:04:05.678Z" || s.Version != "test-1" || s.ClientID != o.ClientID {
		t.Fatalf("retained status after connect: %+v", s)
	}

	proxy.SetMode(mqtttest.Reset) // abrupt: Mosquitto publishes the will
	mqtttest.WaitFor(t, func() bool { return live.Len() == 2 }, "will")
	proxy.SetMode(mqtttest.Pass)
	mqtttest.WaitFor(t, func() bool { return live.Len() == 3 }, "online after reconnect")
	r.stop(t)
	mqtttest.WaitFor(t, func() bool { return live.Len() == 4 }, "offline at shutdown")

	got := statuses(t, live.Messages())
	want := []struct{ state, reason string }{{"online", ""}, {"offline", "connection lost"}, {"online", ""}, {"offline", "shutdown"}}
	for i, w := range want {
		if got[i].State != w.state || got[i].Reason != w.reason {
			t.Errorf("status %d = %+v, want state %q reason %q", i, got[i], w.state, w.reason)
		}
	}
	if got[1].TS != "" {
		t.Errorf("will carries a timestamp from CONNECT time: %q", got[1].TS)
	}
	if s, _ := retainedStatus(t, addr, topic); s.State != "offline" || s.Reason != "shutdown" {
		t.Errorf("retained status after shutdown: %+v", s)
	}
}

// TestBridge_metrics: <prefix>/metrics carries the contract fields, the
// queue's counters and the keys the gateway's Metrics func adds (which cannot
// override the bridge's own).
func TestBridge_metrics(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "gateways/pi-m/metrics")
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, "tcp://"+addr)
	o.Monitor = bridge.Monitor{TopicPrefix: "gateways/pi-m", MetricsInterval: 50 * time.Millisecond}
	o.Metrics = func() map[string]any {
		return map[string]any{"local_clients": 3, "sensor_errors": 1, "rss_bytes": 12345, "version": "not mine"}
	}
	r := start(t, o)
	r.awaitConnection(t)
	publishSeq(t, r.b, "sensors/m", 0, 5, 1)
	if err := publish(t, r.b, "c", "sensors/m0", "x", 0); err != nil {
		t.Fatal(err)
	}
	waitDrained(t, q)

	var doc map[string]any
	mqtttest.WaitFor(t, func() bool {
		msgs := sub.Messages()
		if len(msgs) == 0 {
			return false
		}
		doc = nil
		if err := json.Unmarshal(msgs[len(msgs)-1].Payload, &doc); err != nil {
			t.Fatalf("metrics payload: %v", err)
		}
		return doc["forwarded"].(float64) >= 6
	}, "metrics counting 6 forwarded messages")

	for _, key := range []string{"ts", "uptime_seconds", "version", "queue", "forwarded", "received", "dropped", "reconnects", "uplink", "inflight"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("metrics lack %q: %v", key, doc)
		}
	}
	queue := doc["queue"].(map[string]any)
	for _, key := range []string{"messages", "bytes", "oldest_age_seconds"} {
		if _, ok := queue[key]; !ok {
			t.Errorf("metrics.queue lacks %q: %v", key, queue)
		}
	}
	dropped := doc["dropped"].(map[string]any)
	for _, key := range []string{offline.DroppedOverflowOldest, offline.DroppedOverflowNew, offline.DroppedExpired} {
		if _, ok := dropped[key]; !ok {
			t.Errorf("metrics.dropped lacks %q: %v", key, dropped)
		}
	}
	if up := doc["uplink"].(map[string]any); up["state"] != "online" || up["address"] != "tcp://"+addr {
		t.Errorf("metrics.uplink = %v", up)
	}
	if doc["version"] != "test-1" || doc["local_clients"] != 3.0 || doc["sensor_errors"] != 1.0 || doc["rss_bytes"] != 12345.0 {
		t.Errorf("merged metrics wrong: %v", doc)
	}
	if doc["uptime_seconds"].(float64) <= 0 {
		t.Errorf("uptime_seconds = %v", doc["uptime_seconds"])
	}
	if m := sub.Messages()[0]; m.Retained || m.QoS != 0 {
		t.Errorf("metrics should be QoS 0, not retained: %+v", m)
	}
}
