package bridge_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline"
)

// TestBridge_outageReport: an outage (the fault proxy resets the uplink)
// is visible to the operator: StateChanged fires at the loss and at the
// reconnection, Stats().Outage ages while it lasts, one log line says the
// backlog was drained (outage length, queued, drained, drain rate), the
// outage figures are in Stats and in a metrics message published at once
// after the drain, not a metrics_interval later.
func TestBridge_outageReport(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	metrics := mqtttest.Subscribe(t, addr, "gateways/pi-outage/metrics")
	proxy := mqtttest.NewProxy(t, addr)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, "tcp://"+proxy.Addr())
	o.Monitor = bridge.Monitor{TopicPrefix: "gateways/pi-outage", MetricsInterval: time.Hour}
	o.KeepAlive = 30 * time.Second // the proxy's resets are the only losses (a 1 s keepalive can fire on a loaded machine)
	var logs mqtttest.SyncBuffer
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	r := start(t, o)
	r.awaitConnection(t)
	publishSeq(t, r.b, "sensors/o", 0, 20, 1)
	waitDrained(t, q)

	// A loaded machine can drop the first connection for a moment; count
	// from here.
	base := r.b.Stats().Outage.Count
	changed := r.b.StateChanged()
	proxy.SetMode(mqtttest.Reset)
	awaitClosed(t, changed, "StateChanged at the loss")
	if r.b.Stats().Connected {
		t.Fatal("StateChanged fired, Connected still true")
	}
	publishSeq(t, r.b, "sensors/o", 20, 220, 1) // 200 queued while offline
	mqtttest.WaitFor(t, func() bool { return r.b.Stats().Outage.Age >= 300*time.Millisecond }, "outage ages")
	if st := r.b.Stats().Outage; st.PeakBacklog != 200 || st.Count != base+1 {
		t.Errorf("during the outage: %+v, want PeakBacklog 200, Count %d", st, base+1)
	}

	changed = r.b.StateChanged()
	proxy.SetMode(mqtttest.Pass)
	awaitClosed(t, changed, "StateChanged at the reconnection")
	mqtttest.WaitFor(t, func() bool { return strings.Contains(logs.String(), "bridge: backlog drained") },
		"drained log line; log:\n%s", &logs)

	st := r.b.Stats().Outage
	if st.Age != 0 || st.Draining || st.LastLength < 300*time.Millisecond || st.LastQueued != 200 ||
		st.LastDrained != 200 || st.PeakBacklog != 200 || st.LastDrainTime <= 0 {
		t.Errorf("after the drain: %+v", st)
	}
	line := mqtttest.LastLine(logs.String(), "bridge: backlog drained")
	for _, want := range []string{"queued=200", "drained=200", "peak_backlog=200", "drain_rate_per_s=", "outage=", "drain_time="} {
		if !strings.Contains(line, want) {
			t.Errorf("drained line %q lacks %q", line, want)
		}
	}
	if c := mqtttest.LastLine(logs.String(), "bridge: connected"); !strings.Contains(logs.String(), "backlog=200") {
		t.Errorf("reconnection line lacks backlog=200; first connected line: %q", c)
	}

	// The metrics go out at once after the drain (the interval is an hour).
	mqtttest.WaitFor(t, func() bool { return metrics.Len() > 0 }, "metrics after the drain")
	var doc struct {
		Outage struct {
			Count       uint64  `json:"count"`
			LastSeconds float64 `json:"last_seconds"`
			LastQueued  uint64  `json:"last_queued"`
			LastDrained uint64  `json:"last_drained"`
			PeakBacklog uint64  `json:"peak_backlog"`
			Current     float64 `json:"current_seconds"`
		} `json:"outage"`
	}
	if err := json.Unmarshal(metrics.Messages()[0].Payload, &doc); err != nil {
		t.Fatal(err)
	}
	if o := doc.Outage; o.Count != base+1 || o.LastSeconds < 0.3 || o.LastQueued != 200 || o.LastDrained != 200 || o.PeakBacklog != 200 || o.Current != 0 {
		t.Errorf("metrics outage = %+v", o)
	}
}

// awaitClosed waits up to 10 s for ch to close.
func awaitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not within 10s", what)
	}
}
