package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// quickFlow is a flow short enough for a unit test.
func quickFlow(addr string, pubs, subs int, qos byte) FlowConfig {
	return FlowConfig{Addr: addr, Publishers: pubs, Subscribers: subs, QoS: qos, PayloadSize: 64, Window: 64,
		Duration: 300 * time.Millisecond, DrainTimeout: 20 * time.Second, Quiet: 10 * time.Second, Backlog: defaultBacklog}
}

// checkNoLoss asserts that a QoS 1/2 flow delivered everything exactly once.
func checkNoLoss(t *testing.T, r FlowResult) {
	t.Helper()
	if r.Sent == 0 || r.Rate <= 0 || r.Elapsed <= 0 {
		t.Errorf("sent %d, rate %v, elapsed %v: want a positive count and rate", r.Sent, r.Rate, r.Elapsed)
	}
	if r.Lost != 0 || r.Duplicates != 0 || r.Stray != 0 || r.Received != r.Expected || r.Expected != r.Sent*int64(r.Subscribers) {
		t.Errorf("%s: want every message exactly once", r.Summary())
	}
}

func TestRunFlow_fanIn_Mosquitto(t *testing.T) {
	b := startTestMosquitto(t)
	for _, qos := range []byte{1, 2} {
		r, err := runFlow(t.Context(), quickFlow(b.Addr, 8, 1, qos))
		if err != nil {
			t.Fatalf("qos %d: %v", qos, err)
		}
		t.Logf("fan-in QoS %d: %s", qos, r.Summary())
		checkNoLoss(t, r)
		if r.Reordered != 0 {
			t.Errorf("qos %d: %d messages out of order; Mosquitto keeps each publisher's order", qos, r.Reordered)
		}
	}
}

func TestRunFlow_fanOut_Mosquitto(t *testing.T) {
	b := startTestMosquitto(t)
	r, err := runFlow(t.Context(), quickFlow(b.Addr, 1, 4, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fan-out: %s", r.Summary())
	checkNoLoss(t, r)
}

func TestRunFlow_latency_Mosquitto(t *testing.T) {
	b := startTestMosquitto(t)
	c := quickFlow(b.Addr, 1, 1, 1)
	c.Rate, c.RecordLatency = 500, true
	r, err := runFlow(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("latency: %s", r.Summary())
	checkNoLoss(t, r)
	l := r.Latency
	if l == nil || int64(l.Samples) != r.Received || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
		t.Fatalf("latency %+v for %d messages: want one sample each and 0 < p50 ≤ p99 ≤ max", l, r.Received)
	}
	// Paced at 500 msg/s for 300 ms: about 150 messages, never thousands.
	if r.Sent < 10 || r.Sent > 1000 {
		t.Errorf("sent %d messages at 500 msg/s for 300 ms", r.Sent)
	}
}

func TestRunIdle_Mosquitto(t *testing.T) {
	b := startTestMosquitto(t)
	r, err := runIdle(t.Context(), IdleConfig{Addr: b.Addr, PID: b.PID(), Conns: 200, Parallel: 16, KeepAlive: 60,
		Settle: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("idle: %+v", r)
	if r.Conns != 200 || r.ConnectRate <= 0 || r.RSSBefore <= 0 || r.RSSAfter <= 0 {
		t.Errorf("idle result %+v: want 200 connections, a positive rate and both RSS readings", r)
	}
}

func TestRunIdle_refused(t *testing.T) {
	g, err := newGate("") // accepts and drops every connection
	if err != nil {
		t.Fatal(err)
	}
	runGate(t, g)
	_, err = runIdle(t.Context(), IdleConfig{Addr: g.Addr(), Conns: 20, Parallel: 4, Settle: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "idle: after") {
		t.Errorf("runIdle against a dead endpoint: err = %v, want a connection failure", err)
	}
}

func TestGate_Mosquitto(t *testing.T) {
	b := startTestMosquitto(t)
	g, err := newGate(b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	runGate(t, g)
	if nc, err := handshake(t.Context(), g.Addr(), "closed-gate", 0); err == nil {
		nc.Close()
		t.Fatal("MQTT handshake through a closed gate succeeded")
	}
	g.Open()
	nc, err := handshake(t.Context(), g.Addr(), "open-gate", 0)
	if err != nil {
		t.Fatalf("MQTT handshake through an open gate: %v", err)
	}
	closeIdle([]net.Conn{nc})
}

func TestRun_fanin_json(t *testing.T) {
	b := startTestMosquitto(t)
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"fanin", "-addr", b.Addr, "-qos", "1", "-duration", "200ms", "-json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("mqttbench fanin: %v\n%s", err, errOut.String())
	}
	var r FlowResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output is not a JSON FlowResult: %v\n%s", err, out.String())
	}
	if r.Publishers != 8 || r.Subscribers != 1 || r.QoS != 1 {
		t.Errorf("ran %d→%d at QoS %d, want the fan-in defaults 8→1 and -qos 1", r.Publishers, r.Subscribers, r.QoS)
	}
	checkNoLoss(t, r)
}

func TestRun_usage(t *testing.T) {
	for _, args := range [][]string{nil, {"nonsense"}, {"fanin", "-nonsense"}, {"fanin", "extra"}} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), args, &out, &errOut); err != errUsage {
			t.Errorf("run(%q) = %v, want errUsage", args, err)
		}
		if errOut.Len() == 0 {
			t.Errorf("run(%q) printed no usage", args)
		}
	}
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"fanin", "-qos", "3", "-addr", "127.0.0.1:1"}, &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "-qos 3") {
		t.Errorf("-qos 3: err = %v, want a clear refusal", err)
	}
}

// fakeGateway writes a stand-in for bin/gateway: it answers `version`, and
// `run -config FILE` runs Mosquitto on the listener address of FILE. It lets
// the compare test exercise both columns of the table without depending on
// the real gateway.
func fakeGateway(t *testing.T, mosquitto string) string {
	t.Helper()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root"
	}
	script := `#!/bin/sh
set -eu
case "${1:-}" in
version) echo "fake gateway (mosquitto underneath)"; exit 0 ;;
run) conf=$3 ;;
*) exit 2 ;;
esac
port=$(sed -n 's/.*address: "127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$conf")
dir=$(dirname "$conf")
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n` +
		`max_inflight_messages 0\n%s\n' "$port" "` + user + `" > "$dir/fake.conf"
exec ` + mosquitto + ` -c "$dir/fake.conf"
`
	path := filepath.Join(t.TempDir(), "gateway")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// compareArgs are the flags of a compare run short enough for a unit test.
func compareArgs(gateway, mosquitto string) []string {
	return []string{"compare", "-runs", "1", "-duration", "200ms", "-latency-duration", "200ms", "-conns", "50",
		"-settle", "20ms", "-gateway", gateway, "-mosquitto", mosquitto, "-q"}
}

func TestRun_compare(t *testing.T) {
	mosq := mosquittoBin(t)
	var out, errOut bytes.Buffer
	// A relative path, as `make bench` passes bin/gateway: the broker runs
	// in another directory.
	gw, err := filepath.Rel(mustGetwd(t), fakeGateway(t, mosq))
	if err != nil {
		t.Fatal(err)
	}
	err = run(t.Context(), append(compareArgs(gw, mosq), "-json"), &out, &errOut)
	if err != nil {
		t.Fatalf("mqttbench compare: %v\n%s%s", err, out.String(), errOut.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not a JSON Report: %v\n%s", err, out.String())
	}
	if len(rep.Errors) > 0 || rep.EdgegwError != "" {
		t.Fatalf("failures: %v %s", rep.Errors, rep.EdgegwError)
	}
	if !strings.HasPrefix(rep.Versions[nameEdgegw], "fake gateway") || !strings.HasPrefix(rep.Versions[nameMosquitto], "mosquitto") {
		t.Errorf("versions %v: want both brokers' version lines", rep.Versions)
	}
	if len(rep.Rows) != 26 {
		t.Errorf("%d rows, want 26 (14 for 3.1.1, 12 for MQTT 5.0; no -durable, no -drain)", len(rep.Rows))
	}
	for _, r := range rep.Rows {
		if r.Edgegw == nil || r.Mosquitto == nil {
			t.Errorf("row %q: edgegw %v, mosquitto %v: want both measured", r.Key, r.Edgegw, r.Mosquitto)
			continue
		}
		if strings.HasSuffix(r.Key, "_bad") && (*r.Edgegw != 0 || *r.Mosquitto != 0) {
			t.Errorf("row %q: %v / %v messages lost or duplicated, want 0", r.Key, *r.Edgegw, *r.Mosquitto)
		}
		if (strings.HasSuffix(r.Key, "_rate") || strings.HasSuffix(r.Key, "_v5_vs_v311")) && (*r.Edgegw <= 0 || *r.Mosquitto <= 0) {
			t.Errorf("row %q: rates %v / %v, want positive", r.Key, *r.Edgegw, *r.Mosquitto)
		}
	}
}

func TestRun_compare_noGateway(t *testing.T) {
	mosq := mosquittoBin(t)
	var out, errOut bytes.Buffer
	err := run(t.Context(), compareArgs(filepath.Join(t.TempDir(), "no-such-gateway"), mosq), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "edgegw could not be run") {
		t.Fatalf("compare without a gateway: err = %v, want a clear failure", err)
	}
	table := out.String()
	for _, want := range []string{"edgegw could not be run", "broker binary not found", "no-such-gateway", "fan-in 8→1 QoS 1"} {
		if !strings.Contains(table, want) {
			t.Errorf("output lacks %q:\n%s", want, table)
		}
	}
	if !strings.Contains(table, "msg/s") {
		t.Errorf("output has no Mosquitto rates:\n%s", table)
	}
}

// TestRunFlow_detectsLoss runs an open-loop fan-in (no backlog bound) into a
// Mosquitto that may hold only 10 messages for its subscriber and has one in
// flight: it must drop, and the tool must see it.
func TestRunFlow_detectsLoss(t *testing.T) {
	bin := mosquittoBin(t)
	b, err := startBroker(t.Context(), nameMosquitto, bin, "", []string{"-h"}, func(dir string, port int) ([]string, error) {
		conf := filepath.Join(dir, "tiny.conf")
		text := strings.Replace(mosquittoConf(port), "max_queued_messages 0", "max_queued_messages 10", 1)
		text = strings.Replace(text, "max_inflight_messages 0", "max_inflight_messages 1", 1)
		return []string{"-c", conf}, os.WriteFile(conf, []byte(text), 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	c := quickFlow(b.Addr, 8, 1, 1)
	c.Backlog, c.Quiet = 0, 500*time.Millisecond
	r, err := runFlow(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lossy broker: %s", r.Summary())
	if r.Lost == 0 || r.Lost != r.Expected-r.Received {
		t.Errorf("%s: want loss, counted as expected − received", r.Summary())
	}
}

// runGate runs g until the test ends.
func runGate(t *testing.T, g *gate) {
	t.Cleanup(g.start(context.Background()))
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestRunDrain_badUpstream(t *testing.T) {
	_, err := runDrain(t.Context(), DrainConfig{Messages: 10, Upstream: "hivemq"})
	if err == nil || !strings.Contains(err.Error(), `upstream "hivemq": want mosquitto or edgegw`) {
		t.Fatalf("runDrain = %v", err)
	}
}

// TestRunFlow_v5 runs the MQTT 5.0 scenarios of `compare` (fan-in QoS 1
// and 2, fan-out QoS 1, latency), briefly, against Mosquitto and the real
// gateway: every client speaks MQTT 5.0, and each scenario must deliver
// every message exactly once at a positive rate.
func TestRunFlow_v5(t *testing.T) {
	mosq := startTestMosquitto(t)
	gw, err := startGateway(t.Context(), buildGateway(t), gatewayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Stop)
	cmp := &comparison{cfg: CompareConfig{V5: true, PayloadSize: 64, Window: 64, Duration: 300 * time.Millisecond,
		LatencyDuration: 300 * time.Millisecond, LatencyRate: 500, DrainTimeout: 20 * time.Second, Backlog: defaultBacklog}}
	var n int
	for _, s := range cmp.flows() {
		if !strings.HasPrefix(s.key, v5Prefix) {
			continue
		}
		n++
		if s.cfg.Version != packet.V5 {
			t.Errorf("%s: protocol version %d, want 5", s.name, s.cfg.Version)
		}
		for _, b := range []*broker{mosq, gw} {
			c := s.cfg
			c.Addr = b.Addr
			r, err := runFlow(t.Context(), c)
			if err != nil {
				t.Errorf("%s, %s: %v", s.name, b.Name, err)
				continue
			}
			t.Logf("%-9s %-18s %s", b.Name, s.name, r.Summary())
			if r.Protocol != 5 {
				t.Errorf("%s, %s: result says protocol %d, want 5", s.name, b.Name, r.Protocol)
			}
			checkNoLoss(t, r)
			if c.RecordLatency && (r.Latency == nil || r.Latency.P50 <= 0 || r.Latency.P99 < r.Latency.P50) {
				t.Errorf("%s, %s: latency %+v, want 0 < p50 ≤ p99", s.name, b.Name, r.Latency)
			}
		}
	}
	if n != 4 {
		t.Errorf("%d MQTT 5.0 scenarios, want 4 (fan-in QoS 1 and 2, fan-out QoS 1, latency)", n)
	}
}
