package bridge

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// tsLayout is RFC 3339 in UTC with milliseconds, as in sensor readings.
const tsLayout = "2006-01-02T15:04:05.000Z07:00"

// status is the JSON of <prefix>/status (contract: "state" is "online" or
// "offline").
type status struct {
	State    string `json:"state"`
	TS       string `json:"ts,omitempty"` // absent in the will, which is fixed at CONNECT
	Reason   string `json:"reason,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Version  string `json:"version,omitempty"`
}

func (b *Bridge) statusTopic() string  { return b.o.Monitor.TopicPrefix + "/status" }
func (b *Bridge) metricsTopic() string { return b.o.Monitor.TopicPrefix + "/metrics" }

func (b *Bridge) statusPayload(clientID, state, reason string, stamped bool) []byte {
	s := status{State: state, Reason: reason, ClientID: clientID, Version: b.o.Version}
	if stamped {
		s.TS = b.o.Now().UTC().Format(tsLayout)
	}
	data, _ := json.Marshal(s) // strings only: cannot fail
	return data
}

// publishStatus publishes the retained status at QoS 1 and returns a
// channel closed on its PUBACK (closed at once when monitoring is off).
func (c *conn) publishStatus(state, reason string) <-chan struct{} {
	b := c.b
	if b.o.Monitor.TopicPrefix == "" {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	id, acked := b.ctrl.id()
	p := &packet.Publish{QoS: 1, Retain: true, Topic: b.statusTopic(), PacketID: id,
		Payload: b.statusPayload(c.up.ClientID, state, reason, true)}
	if c.ver == packet.V5 {
		c.capPublish(p)
	}
	c.send(p)
	if p.QoS == 0 { // the upstream's Maximum QoS is 0: no PUBACK comes
		b.ctrl.done(id)
	}
	return acked
}

// metricsLoop publishes <prefix>/metrics (QoS 0, not retained) every
// MetricsInterval while ctx lasts.
func (c *conn) metricsLoop(ctx context.Context) {
	b := c.b
	if b.o.Monitor.TopicPrefix == "" || b.o.Monitor.MetricsInterval < 0 {
		return
	}
	t := time.NewTicker(b.o.Monitor.MetricsInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.publishMetrics(ctx)
	}
}

// publishMetrics sends one <prefix>/metrics message (when metrics are on).
func (c *conn) publishMetrics(ctx context.Context) {
	b := c.b
	if b.o.Monitor.TopicPrefix == "" || b.o.Monitor.MetricsInterval < 0 {
		return
	}
	data, err := json.Marshal(b.metrics())
	if err != nil {
		b.log.Error("bridge: encode metrics", "err", err)
		return
	}
	c.sendCtx(ctx, &packet.Publish{Topic: b.metricsTopic(), Payload: data})
}

// Metrics returns the metrics document as <prefix>/metrics would publish it
// now (for a status command).
func (b *Bridge) Metrics() map[string]any { return b.metrics() }

// metrics builds the metrics document: Options.Metrics' keys, then the
// bridge's own, which win on a clash.
func (b *Bridge) metrics() map[string]any {
	m := map[string]any{}
	if b.o.Metrics != nil {
		for k, v := range b.o.Metrics() {
			m[k] = v
		}
	}
	q := b.queueStats()
	st := b.statsWith(q)
	state := "offline"
	if st.Connected {
		state = "online"
	}
	m["ts"] = b.o.Now().UTC().Format(tsLayout)
	m["version"] = b.o.Version
	m["uptime_seconds"] = seconds(b.since())
	m["queue"] = map[string]any{
		"messages":           q.Messages,
		"bytes":              q.Bytes,
		"oldest_age_seconds": seconds(q.OldestAge),
		"quarantined":        q.Quarantined,
		"deferred":           q.Deferred,
		"unwritten":          q.Unwritten,
	}
	m["forwarded"] = st.Forwarded
	m["received"] = st.Received
	m["dropped"] = st.Dropped
	m["reconnects"] = st.Reconnects
	m["inflight"] = st.Inflight
	m["uplink"] = map[string]any{
		"state":              state,
		"address":            st.Address,
		"connects":           st.Connects,
		"connected_seconds":  seconds(st.ConnectedFor),
		"connect_failures":   st.ConnectFailures,
		"protocol":           protocolName(b.o.Protocol),
		"server_disconnects": orEmpty(st.ServerDisconnects),
		"orphans_released":   st.OrphansReleased,
	}
	m["outage"] = outageMetrics(st.Outage)
	return m
}

// outageMetrics is the "outage" object of the metrics document.
func outageMetrics(o Outage) map[string]any {
	dropped := o.LastDropped
	if dropped == nil {
		dropped = map[string]uint64{}
	}
	return map[string]any{
		"count":              o.Count,
		"current_seconds":    seconds(o.Age),
		"draining":           o.Draining,
		"last_seconds":       seconds(o.LastLength),
		"peak_backlog":       o.PeakBacklog,
		"last_drain_seconds": seconds(o.LastDrainTime),
		"last_queued":        o.LastQueued,
		"last_drained":       o.LastDrained,
		"last_dropped":       dropped,
	}
}

func orEmpty(m map[string]uint64) map[string]uint64 {
	if m == nil {
		return map[string]uint64{}
	}
	return m
}

// protocolName is the bridge.protocol name of v.
func protocolName(v packet.Version) string {
	if v == packet.V5 {
		return "5"
	}
	return "3.1.1"
}

// seconds rounds d to milliseconds, in seconds.
func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }
