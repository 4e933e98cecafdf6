package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// syntheticComparison is a comparison of three runs with known values.
func syntheticComparison() *comparison {
	cmp := &comparison{
		cfg:      CompareConfig{Runs: 3, Duration: 5 * time.Second},
		versions: map[string]string{nameEdgegw: "gateway 1.0", nameMosquitto: "mosquitto version 2.0.11"},
		runs: map[string][]runValues{
			nameEdgegw: {
				{"fanin_qos1_rate": 90000, "fanin_qos1_bad": 0, "latency_p99": 0.002, "rss_per_conn": 10 << 10, "idle_rss": 14 << 20},
				{"fanin_qos1_rate": 60000, "fanin_qos1_bad": 3, "latency_p99": 0.001, "rss_per_conn": 11 << 10, "idle_rss": 14 << 20},
				{"fanin_qos1_rate": 1e9 /* outlier */, "fanin_qos1_bad": 0, "latency_p99": 0.004},
			},
			nameMosquitto: {
				{"fanin_qos1_rate": 50000, "fanin_qos1_bad": 0, "latency_p99": 0.001, "rss_per_conn": 6 << 10, "idle_rss": 1 << 20},
				{"fanin_qos1_rate": 40000, "fanin_qos1_bad": 0, "latency_p99": 0.003, "rss_per_conn": 6 << 10, "idle_rss": 1 << 20},
				{"fanin_qos1_rate": 60000, "fanin_qos1_bad": 0, "latency_p99": 0.002},
			},
		},
	}
	return cmp
}

func rowOf(t *testing.T, rep *Report, key string) Row {
	t.Helper()
	for _, r := range rep.Rows {
		if r.Key == key {
			return r
		}
	}
	t.Fatalf("no row %q", key)
	return Row{}
}

func TestComparison_report(t *testing.T) {
	rep := syntheticComparison().report()

	// Rates: the median of the runs, ratio edgegw/mosquitto.
	r := rowOf(t, rep, "fanin_qos1_rate")
	if *r.Edgegw != 90000 || *r.Mosquitto != 50000 {
		t.Errorf("fan-in QoS 1 = %v / %v, want medians 90000 / 50000", *r.Edgegw, *r.Mosquitto)
	}
	if math.Abs(*r.Ratio-1.8) > 1e-9 || r.RatioKind != "edgegw/mosquitto" || r.Met == nil || !*r.Met {
		t.Errorf("fan-in QoS 1 ratio %v (%s), met %v; want 1.8 edgegw/mosquitto, met (≥ 1.5×)", *r.Ratio, r.RatioKind, r.Met)
	}

	// Loss: the worst run, target zero, no ratio.
	r = rowOf(t, rep, "fanin_qos1_bad")
	if *r.Edgegw != 3 || r.Ratio != nil || r.Met == nil || *r.Met {
		t.Errorf("fan-in QoS 1 lost+dup = %v, ratio %v, met %v; want worst run 3, no ratio, not met", *r.Edgegw, r.Ratio, r.Met)
	}

	// Latency: lower is better, so the ratio is mosquitto/edgegw.
	r = rowOf(t, rep, "latency_p99")
	if *r.Edgegw != 2000 || *r.Mosquitto != 2000 || *r.Ratio != 1 || r.RatioKind != "mosquitto/edgegw" || !*r.Met {
		t.Errorf("latency p99 = %v / %v µs, ratio %v (%s), met %v; want 2000 / 2000, 1 mosquitto/edgegw, met",
			*r.Edgegw, *r.Mosquitto, *r.Ratio, r.RatioKind, *r.Met)
	}

	// RSS: absolute targets on edgegw's value, in KiB and MiB.
	r = rowOf(t, rep, "rss_per_conn")
	if *r.Edgegw != 10.5 || !*r.Met || math.Abs(*r.Ratio-6/10.5) > 1e-9 {
		t.Errorf("RSS per connection = %v KiB, ratio %v, met %v; want 10.5, %v, met", *r.Edgegw, *r.Ratio, *r.Met, 6/10.5)
	}
	r = rowOf(t, rep, "idle_rss")
	if *r.Edgegw != 14 || *r.Met {
		t.Errorf("idle RSS = %v MiB, met %v; want 14, not met (≤ 12 MiB)", *r.Edgegw, *r.Met)
	}

	// Not measured: no value, no verdict.
	r = rowOf(t, rep, "fanout_qos1_rate")
	if r.Edgegw != nil || r.Mosquitto != nil || r.Ratio != nil || r.Met != nil {
		t.Errorf("unmeasured row = %+v, want all null", r)
	}
	if rep.Unmet() != 2 {
		t.Errorf("Unmet = %d, want 2 (loss and idle RSS)", rep.Unmet())
	}
	for _, r := range rep.Rows {
		if strings.HasPrefix(r.Key, "durable_") || r.Key == "drain_rate" {
			t.Errorf("row %q shown without -durable / -drain", r.Key)
		}
	}
}

func TestReport_WriteTable(t *testing.T) {
	cmp := syntheticComparison()
	cmp.gatewayErr = ErrNoBinary
	var b bytes.Buffer
	if err := cmp.report().WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"scenario", "met?", "fan-in 8→1 QoS 1", "90000 msg/s", "50000 msg/s", "1.80×", "≥ 1.5×",
		"2000 µs", "≤ mosquitto", "10.5 KiB", "14.0 MiB", "NO", "yes",
		"mosquitto/edgegw for latency and RSS", "edgegw could not be run", "mosquitto version 2.0.11",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestReport_WriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := syntheticComparison().report().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got Report
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b.String())
	}
	if got.Runs != 3 || len(got.Rows) == 0 || got.Raw[nameEdgegw][0]["fanin_qos1_rate"] != 90000 {
		t.Errorf("decoded report = %+v", got)
	}
}

// TestFlowOrder: each MQTT 5.0 scenario runs next to its 3.1.1 twin,
// after it on even runs and before it on odd runs.
func TestFlowOrder(t *testing.T) {
	cmp := &comparison{cfg: CompareConfig{V5: true}}
	keys := func(r int) string {
		var ks []string
		for _, s := range flowOrder(cmp.flows(), r) {
			ks = append(ks, s.key)
		}
		return strings.Join(ks, " ")
	}
	even := "fanin_qos0 fanin_qos1 v5_fanin_qos1 fanin_qos2 v5_fanin_qos2 fanout_qos1 v5_fanout_qos1 latency v5_latency"
	odd := "fanin_qos0 v5_fanin_qos1 fanin_qos1 v5_fanin_qos2 fanin_qos2 v5_fanout_qos1 fanout_qos1 v5_latency latency"
	if got := keys(0); got != even {
		t.Errorf("run 0: %s\nwant   %s", got, even)
	}
	if got := keys(1); got != odd {
		t.Errorf("run 1: %s\nwant   %s", got, odd)
	}
	cmp.cfg.V5 = false
	if got := keys(1); got != "fanin_qos0 fanin_qos1 fanin_qos2 fanout_qos1 latency" {
		t.Errorf("without -v5: %s", got)
	}
}
