package main

import (
	"fmt"
	"math"
)

// targetKind says how a metric's target is checked.
type targetKind int

const (
	noTarget     targetKind = iota
	ratioAtLeast            // the ratio (oriented so that > 1 favours edgegw) ≥ value
	oursAtMost              // edgegw's own value ≤ value
	oursAtLeast             // edgegw's own value ≥ value
)

// target is a metric's goal, from the project's performance targets.
type target struct {
	kind  targetKind
	value float64
	text  string // as printed in the table
}

// met reports whether the target holds; ok is false when it cannot be
// decided (no target, or a value is missing).
func (t target) met(ours, ratio float64) (met, ok bool) {
	switch t.kind {
	case ratioAtLeast:
		return ratio >= t.value, !math.IsNaN(ratio)
	case oursAtMost:
		return ours <= t.value, !math.IsNaN(ours)
	case oursAtLeast:
		return ours >= t.value, !math.IsNaN(ours)
	}
	return false, false
}

// metric is one row of the comparison table.
type metric struct {
	key   string
	label string
	unit  string // display unit: msg/s, conn/s, µs, KiB, MiB, msgs
	// higher means higher values are better, so the ratio is
	// edgegw/mosquitto; otherwise it is mosquitto/edgegw. Either way a
	// ratio above 1 favours edgegw.
	higher bool
	// worst summarises the runs by their worst value (counts of lost and
	// duplicated messages) instead of the median.
	worst bool
	// own marks a row that compares a broker with itself (MQTT 5.0 /
	// 3.1.1): each column is that broker's own quotient, and there is no
	// edgegw/mosquitto ratio.
	own    bool
	target target
	// scale converts the stored value (msg/s, seconds, bytes, messages)
	// into unit.
	scale float64
}

// metrics lists the table's rows in order; the optional scenarios come last.
var metrics = []metric{
	{key: "fanin_qos0_rate", label: "fan-in 8→1 QoS 0", unit: "msg/s", higher: true, scale: 1,
		target: target{ratioAtLeast, 1.2, "≥ 1.2×"}},
	{key: "fanin_qos0_lost", label: "fan-in QoS 0 lost (worst run)", unit: "msgs", worst: true, scale: 1},
	{key: "fanin_qos1_rate", label: "fan-in 8→1 QoS 1", unit: "msg/s", higher: true, scale: 1,
		target: target{ratioAtLeast, 1.5, "≥ 1.5×"}},
	{key: "fanin_qos1_bad", label: "fan-in QoS 1 lost+dup (worst run)", unit: "msgs", worst: true, scale: 1,
		target: target{oursAtMost, 0, "= 0"}},
	{key: "fanin_qos2_rate", label: "fan-in 8→1 QoS 2", unit: "msg/s", higher: true, scale: 1,
		target: target{ratioAtLeast, 2, "≥ 2×"}},
	{key: "fanin_qos2_bad", label: "fan-in QoS 2 lost+dup (worst run)", unit: "msgs", worst: true, scale: 1,
		target: target{oursAtMost, 0, "= 0"}},
	{key: "fanout_qos1_rate", label: "fan-out 1→16 QoS 1 (sum)", unit: "msg/s", higher: true, scale: 1,
		target: target{ratioAtLeast, 2, "≥ 2×"}},
	{key: "fanout_qos1_bad", label: "fan-out QoS 1 lost+dup (worst run)", unit: "msgs", worst: true, scale: 1,
		target: target{oursAtMost, 0, "= 0"}},
	{key: "latency_p50", label: "latency QoS 1 p50", unit: "µs", scale: 1e6},
	{key: "latency_p99", label: "latency QoS 1 p99", unit: "µs", scale: 1e6,
		target: target{ratioAtLeast, 1, "≤ mosquitto"}},
	{key: "latency_max", label: "latency QoS 1 max", unit: "µs", scale: 1e6},
	{key: "v5_fanin_qos1_rate", label: "v5 fan-in 8→1 QoS 1", unit: "msg/s", higher: true, scale: 1,
		target: target{ratioAtLeast, 3, "≥ 3×"}}, // issue 11
	{key: "v5_fanin_qos1_bad", label: "v5 fan-in QoS 1 lost+dup (worst run)", unit: "msgs", worst: true, scale: 1,
		target: target{oursAtMost, 0, "= 0"}},
	{key: "fanin_qos1_rate_v5_vs_v311", label: "v5/3.1.1 fan-in QoS 1 (own)", unit: "×", own: true, scale: 1,
		target: target{oursAtLeast, 0.9, "edgegw ≥ 0.90"}}, // issue 11: within 10%
	{key: "v5_fanin_qos2_rate", label: "v5 fan-in 8→1 QoS 2", unit: "msg/s", higher: true, scale: 1,
		target: target{ratioAtLeast, 3, "≥ 3×"}},
	{key: "v5_fanin_qos2_bad", label: "v5 fan-in QoS 2 lost+dup (worst run)", unit: "msgs", worst: true, scale: 1,
		target: target{oursAtMost, 0, "= 0"}},
	{key: "fanin_qos2_rate_v5_vs_v311", label: "v5/3.1.1 fan-in QoS 2 (own)", unit: "×", own: true, scale: 1,
		target: target{oursAtLeast, 0.9, "edgegw ≥ 0.90"}},
	{key: "v5_fanout_qos1_rate", label: "v5 fan-out 1→16 QoS 1 (sum)", unit: "msg/s", higher: true, scale: 1,
		target: target{ratioAtLeast, 3, "≥ 3×"}},
	{key: "v5_fanout_qos1_bad", label: "v5 fan-out QoS 1 lost+dup (worst run)", unit: "msgs", worst: true, scale: 1,
		target: target{oursAtMost, 0, "= 0"}},
	{key: "fanout_qos1_rate_v5_vs_v311", label: "v5/3.1.1 fan-out QoS 1 (own)", unit: "×", own: true, scale: 1,
		target: target{oursAtLeast, 0.9, "edgegw ≥ 0.90"}},
	{key: "v5_latency_p50", label: "v5 latency QoS 1 p50", unit: "µs", scale: 1e6},
	{key: "v5_latency_p99", label: "v5 latency QoS 1 p99", unit: "µs", scale: 1e6,
		target: target{ratioAtLeast, 1, "≤ mosquitto"}},
	{key: "v5_latency_max", label: "v5 latency QoS 1 max", unit: "µs", scale: 1e6},
	{key: "connect_rate", label: "connect rate (idle conns)", unit: "conn/s", higher: true, scale: 1},
	{key: "rss_per_conn", label: "RSS per idle connection", unit: "KiB", scale: 1.0 / 1024,
		target: target{oursAtMost, 12 << 10, "≤ 12 KiB"}},
	{key: "idle_rss", label: "idle RSS, no clients", unit: "MiB", scale: 1.0 / (1 << 20),
		target: target{oursAtMost, 12 << 20, "≤ 12 MiB"}},
	{key: "durable_qos1_rate", label: "durable fan-in QoS 1 vs plain", unit: "msg/s", higher: true, scale: 1,
		target: target{ratioAtLeast, 2, "≥ 2×"}}, // issue 8: durable ingest ≥ 2× Mosquitto's non-durable fan-in
	{key: "durable_qos1_bad", label: "durable QoS 1 lost+dup (worst run)", unit: "msgs", worst: true, scale: 1,
		target: target{oursAtMost, 0, "= 0"}},
	{key: "durable_qos1_unqueued", label: "durable QoS 1 acked, not on disk (worst run)", unit: "msgs", worst: true,
		scale: 1, target: target{oursAtMost, 0, "= 0"}},
	{key: "drain_rate", label: "drain 100k backlog upstream", unit: "msg/s", higher: true, scale: 1,
		target: target{oursAtLeast, 40000, "≥ 40000 msg/s"}}, // issue 8
}

// ratio orients the two values so that a result above 1 favours edgegw.
func (m metric) ratio(ours, theirs float64) float64 {
	if m.higher {
		return ours / theirs
	}
	return theirs / ours
}

// ratioKind names the ratio's orientation for the JSON output.
func (m metric) ratioKind() string {
	if m.higher {
		return "edgegw/mosquitto"
	}
	return "mosquitto/edgegw"
}

// format renders a stored value in the metric's unit.
func (m metric) format(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	x := v * m.scale
	switch {
	case m.unit == "×":
		return fmt.Sprintf("%.2f×", x)
	case m.unit == "msgs" || math.Abs(x) >= 1000:
		return fmt.Sprintf("%.0f %s", x, m.unit)
	case math.Abs(x) >= 100:
		return fmt.Sprintf("%.0f %s", x, m.unit)
	case math.Abs(x) >= 10:
		return fmt.Sprintf("%.1f %s", x, m.unit)
	}
	return fmt.Sprintf("%.2f %s", x, m.unit)
}
