package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// TestBridge_Forward_InOrder: 500 QoS 1 messages published by a local Paho
// client on sensors/x all reach the upstream subscriber of gw/sensors/x,
// once each and in order — against Mosquitto and against mochi.
func TestBridge_Forward_InOrder(t *testing.T) {
	upstreams := []struct {
		name  string
		start func(t *testing.T) string
	}{
		{"mosquitto", func(t *testing.T) string { return mqtttest.StartMosquitto(t, "") }},
		{"mochi", func(t *testing.T) string { return mqtttest.StartMochi(t) }},
	}
	for _, u := range upstreams {
		t.Run(u.name, func(t *testing.T) {
			const n = 500
			up := u.start(t)
			px := mqtttest.NewProxy(t, up)
			sub := mqtttest.Subscribe(t, up, "gw/sensors/#")
			p := startGateway(t, bridgeConfig(px.Addr(), 1))
			c := connectLocal(t, p, clientOpts{})
			publishAll(t, c, "sensors/x", "a", 1, n, 32)

			got := waitUpstream(t, sub, "gw/sensors/x", "a", span(n), drainWait)
			if len(got) != n {
				t.Errorf("upstream got %d messages, want exactly %d (%d duplicates)", len(got), n, duplicates(got))
			}
			if v := firstOrderViolation(got); v != "" {
				t.Errorf("out of order upstream: %s", v)
			}
			for _, m := range sub.On("gw/sensors/x") {
				if m.QoS != 1 {
					t.Fatalf("upstream message at QoS %d, want 1 (rule qos 1)", m.QoS)
				}
			}
		})
	}
}

// TestBridge_Outage_Blackhole: while the uplink is blackholed (no FIN, no
// RST), 300 local QoS 1 publishes are all acknowledged, none reaches the
// upstream, the local $SYS queue depth shows them; when the uplink comes
// back the persistent upstream subscriber receives all 300, in order, and
// the queue empties.
func TestBridge_Outage_Blackhole(t *testing.T) {
	const n = 300
	up := mqtttest.StartMosquitto(t, "")
	px := mqtttest.NewProxy(t, up)
	sub := mqtttest.SubscribeWith(t, up, mqtttest.ClientOptions{ClientID: "e2e-up-outage", CleanSession: false}, "gw/sensors/#")
	status := mqtttest.Subscribe(t, up, statusTopic)
	p := startGateway(t, bridgeConfig(px.Addr(), 1))
	waitState(t, status, "online")
	c := connectLocal(t, p, clientOpts{})
	c.sub(queueTopic, 0)
	c.pub("sensors/x", 1, false, "pre-0")
	waitUpstream(t, sub, "gw/sensors/x", "pre", []int{0}, drainWait)

	px.SetMode(mqtttest.Blackhole)
	publishAll(t, c, "sensors/x", "out", 1, n, 32)
	waitQueue(t, c, statusWait, queueTopic+" >= 300", func(depth int) bool { return depth >= n })
	if got := seqs(sub.Messages(), "gw/sensors/x", "out"); len(got) != 0 {
		t.Fatalf("%d messages reached the upstream through a blackholed uplink", len(got))
	}

	px.SetMode(mqtttest.Pass)
	got := waitUpstream(t, sub, "gw/sensors/x", "out", span(n), drainWait)
	if v := firstOrderViolation(got); v != "" {
		t.Errorf("out of order after the outage: %s", v)
	}
	t.Logf("outage: %d messages upstream for %d published (%d duplicates)", len(got), n, duplicates(got))
	waitQueue(t, c, statusWait, "the queue to empty after the drain", isEmpty)
	waitState(t, status, "online")
}

// TestBridge_Kill9_BurstAndDrain: the durability promise across kill -9.
// Local QoS 1 publishes run while the uplink is blackholed; the gateway is
// killed mid-burst; `gateway queue stats` shows the acknowledged messages on
// disk; the gateway restarts into a slowed uplink and is killed again in the
// middle of the drain, three times; after a last start with the uplink restored, every
// message that was acknowledged reached the upstream (duplicates allowed,
// none missing), first arrivals in order.
func TestBridge_Kill9_BurstAndDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 loop: skipped with -short")
	}
	const size = 1000 // one message per slowed chunk: a drain of seconds
	up := mqtttest.StartMosquitto(t, "")
	px := mqtttest.NewProxy(t, up)
	sub := mqtttest.SubscribeWith(t, up, mqtttest.ClientOptions{ClientID: "e2e-up-kill", CleanSession: false}, "gw/sensors/#")
	status := mqtttest.Subscribe(t, up, statusTopic)
	p := startGateway(t, bridgeConfig(px.Addr(), 1))
	waitState(t, status, "online")

	// 1. kill -9 during a burst.
	px.SetMode(mqtttest.Blackhole)
	c := connectLocal(t, p, clientOpts{})
	b := startBurst(c, "sensors/k", "k", 1, size, 32)
	waitFor(t, drainWait, "200 acknowledged publishes", func() bool { return b.Acked() >= 200 }, nil)
	p.Kill()
	acked, sent := b.Wait()
	t.Logf("burst: %d published, %d acknowledged before kill -9", sent, len(acked))

	stdout, stderr, code := runCLI(t, p.Dir, "queue", "stats", "-config", p.CfgPath)
	if code != 0 {
		t.Fatalf("gateway queue stats: exit %d: %s%s", code, stdout, stderr)
	}
	if depth := queueDepth(t, stdout); depth < len(acked) {
		t.Errorf("queue stats after kill -9: %d messages on disk, but %d were acknowledged:\n%s", depth, len(acked), stdout)
	}

	// 2. kill -9 during the drain, three times.
	killDuringDrain(t, p, px, sub, "gw/sensors/k", "k", len(acked), drainKills)

	// 3. Restart with the uplink restored: everything acknowledged arrives.
	px.SetMode(mqtttest.Pass)
	p.Start()
	got := waitUpstream(t, sub, "gw/sensors/k", "k", acked, drainWait)
	if v := firstOrderViolation(got); v != "" {
		t.Errorf("out of order across kill -9: %s", v)
	}
	t.Logf("after restarts: %d arrivals, %d distinct, %d duplicates; %d acknowledged", len(got), distinct(got), duplicates(got), len(acked))
}

// drainKills is how many times the kill -9 tests kill the gateway in the
// middle of a drain.
const drainKills = 3

// killDuringDrain lets the gateway drain its queue through a slowed uplink
// (starting it when it is not running) and kills it with SIGKILL once 25 more
// of run's total messages reached the upstream subscriber; rounds times.
// It fails the test when a drain finished before the kill.
func killDuringDrain(t *testing.T, p *proc, px *mqtttest.Proxy, sub *mqtttest.Subscriber, topic, run string, total, rounds int) {
	t.Helper()
	px.SetDelay(20 * time.Millisecond)
	px.SetMode(mqtttest.Slow)
	upstream := func() int { return distinct(seqs(sub.Messages(), topic, run)) }
	for r := 0; r < rounds; r++ {
		if !p.running() {
			p.Start()
		}
		want := upstream() + 25
		waitFor(t, drainWait, fmt.Sprintf("%d of %s upstream (drain %d)", want, run, r+1),
			func() bool { return upstream() >= want }, nil)
		p.Kill()
		mid := upstream()
		t.Logf("drain %d: %d of %d distinct messages upstream at kill -9", r+1, mid, total)
		if mid >= total {
			t.Fatalf("drain %d finished before kill -9 (%d of %d): the test did not kill mid-drain", r+1, mid, total)
		}
	}
}

// queueDepth parses the message count out of `gateway queue stats`.
func queueDepth(t testing.TB, out string) int {
	t.Helper()
	m := regexp.MustCompile(`(\d+) messages`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no \"N messages\" in queue stats output:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestBridge_QoS2_ExactlyOnceAcrossKill9: with rule qos 2, local QoS 2
// publishes queued during an outage drain into a slowed uplink; the gateway
// is killed in the middle of the drain (three times) and restarted: the upstream QoS 2
// subscriber receives every message exactly once.
//
// bridge.inflight is 16 here, below Mosquitto's default limit of 20
// unreleased incoming QoS 2 messages per client; the default window is
// TestBridge_QoS2_DefaultInflight's subject.
func TestBridge_QoS2_ExactlyOnceAcrossKill9(t *testing.T) {
	qos2AcrossKill9(t, "  inflight: 16\n")
}

// qos2AcrossKill9 is TestBridge_QoS2_ExactlyOnceAcrossKill9 with extra
// bridge configuration.
func qos2AcrossKill9(t *testing.T, extra string) {
	if testing.Short() {
		t.Skip("kill -9 loop: skipped with -short")
	}
	const n, size = 300, 1000
	up := mqtttest.StartMosquitto(t, "")
	px := mqtttest.NewProxy(t, up)
	sub := mqtttest.SubscribeWith(t, up, mqtttest.ClientOptions{ClientID: "e2e-up-qos2", CleanSession: false}, "gw/sensors/#")
	status := mqtttest.Subscribe(t, up, statusTopic)
	p := startGateway(t, bridgeConfig(px.Addr(), 2, extra))
	waitState(t, status, "online")

	px.SetMode(mqtttest.Blackhole)
	c := connectLocal(t, p, clientOpts{})
	publishAll(t, c, "sensors/q", "q", 2, n, size)

	killDuringDrain(t, p, px, sub, "gw/sensors/q", "q", n, drainKills)

	px.SetMode(mqtttest.Pass)
	p.Start()
	got := waitUpstream(t, sub, "gw/sensors/q", "q", span(n), drainWait)
	// Wait for the queue to be empty, so that a late duplicate would have
	// arrived by now.
	local := connectLocal(t, p, clientOpts{})
	local.sub(queueTopic, 0)
	waitQueue(t, local, statusWait, "the queue to empty", isEmpty)
	local.pub("sensors/q", 2, false, "end-0")
	waitUpstream(t, sub, "gw/sensors/q", "end", []int{0}, drainWait)

	got = seqs(sub.Messages(), "gw/sensors/q", "q")
	if d := duplicates(got); d != 0 {
		t.Errorf("QoS 2 across kill -9: %d duplicates upstream (%d arrivals for %d messages): %v", d, len(got), n, dupList(got))
	}
	for _, m := range sub.On("gw/sensors/q") {
		if m.QoS != 2 {
			t.Fatalf("upstream message at QoS %d, want 2", m.QoS)
		}
	}
}

// TestBridge_QoS2_DefaultInflight: with the default bridge.inflight and a
// Mosquitto upstream with its default settings, a backlog of QoS 2 messages
// queued during an outage all arrive, once each, when the uplink returns.
// Mosquitto accepts at most max_inflight_messages (default 20) unreleased
// QoS 2 PUBLISHes per client and answers the excess with a PUBREC while
// discarding it (MQTT 3.1.1 has no reason code to say so), so a window
// larger than that loses messages silently.
func TestBridge_QoS2_DefaultInflight(t *testing.T) {
	const n = 100
	up := mqtttest.StartMosquitto(t, "")
	px := mqtttest.NewProxy(t, up)
	sub := mqtttest.SubscribeWith(t, up, mqtttest.ClientOptions{ClientID: "e2e-up-qos2-default", CleanSession: false}, "gw/sensors/#")
	status := mqtttest.Subscribe(t, up, statusTopic)
	p := startGateway(t, bridgeConfig(px.Addr(), 2))
	waitState(t, status, "online")

	px.SetMode(mqtttest.Blackhole)
	c := connectLocal(t, p, clientOpts{})
	publishAll(t, c, "sensors/d", "d", 2, n, 32)
	px.SetMode(mqtttest.Pass)

	local := connectLocal(t, p, clientOpts{})
	local.sub(queueTopic, 0)
	waitQueue(t, local, drainWait, "the queue to empty", isEmpty)
	local.pub("sensors/d", 2, false, "end-0")
	waitUpstream(t, sub, "gw/sensors/d", "end", []int{0}, drainWait)

	got := seqs(sub.Messages(), "gw/sensors/d", "d")
	if m := missing(span(n), got); len(m) != 0 {
		t.Errorf("QoS 2 backlog with the default bridge.inflight: the gateway dequeued all %d messages "+
			"but %d never reached the upstream subscriber: %v", n, len(m), m)
	}
	if d := duplicates(got); d != 0 {
		t.Errorf("%d duplicates: %v", d, dupList(got))
	}
}

// dupList returns the numbers that arrived more than once, with counts.
func dupList(got []int) map[int]int {
	n := map[int]int{}
	for _, v := range got {
		n[v]++
	}
	for k, c := range n {
		if c < 2 {
			delete(n, k)
		}
	}
	return n
}

// TestBridge_Downlink: a message published upstream on gw/cmd/led reaches a
// local subscriber of cmd/led (rule cmd/# in); a local publish on cmd/...
// does not go upstream (the rule is in only), and nothing loops.
func TestBridge_Downlink(t *testing.T) {
	up := mqtttest.StartMosquitto(t, "")
	px := mqtttest.NewProxy(t, up)
	upSub := mqtttest.Subscribe(t, up, "gw/#")
	status := mqtttest.Subscribe(t, up, statusTopic)
	p := startGateway(t, bridgeConfig(px.Addr(), 1))
	waitState(t, status, "online")
	local := connectLocal(t, p, clientOpts{})
	local.sub("cmd/#", 1)

	upPub := connect(t, "tcp://"+up, clientOpts{})
	// The bridge subscribes upstream after CONNACK: publish until the
	// subscription is in place.
	i := 0
	waitFor(t, statusWait, "cmd/led locally", func() bool {
		upPub.pub("gw/cmd/led", 1, false, "on-"+strconv.Itoa(i))
		i++
		return mqtttest.Poll(300*time.Millisecond, func() bool { return len(local.on("cmd/led")) > 0 })
	}, nil)
	m, _ := local.last("cmd/led")
	if !strings.HasPrefix(string(m.Payload), "on-") {
		t.Errorf("cmd/led payload %q", m.Payload)
	}

	local.pub("cmd/local-only", 1, false, "stays here")
	local.pub("sensors/marker", 1, false, "marker-0")
	waitUpstream(t, upSub, "gw/sensors/marker", "marker", []int{0}, drainWait)
	if ms := upSub.On("gw/cmd/local-only"); len(ms) != 0 {
		t.Errorf("a local cmd/ message went upstream through an in-only rule")
	}
	if n := len(upSub.On("gw/cmd/led")); n != i {
		t.Errorf("upstream saw gw/cmd/led %d times for %d publishes: the downlink looped back", n, i)
	}
}

// TestBridge_Monitor: the retained status is "online" while connected,
// "offline" (retained) after SIGTERM, and "offline" through the will after
// kill -9; the metrics topic carries the contract's fields.
func TestBridge_Monitor(t *testing.T) {
	up := mqtttest.StartMosquitto(t, "")
	px := mqtttest.NewProxy(t, up)
	mon := mqtttest.Subscribe(t, up, "gateways/test/#")
	p := startGateway(t, bridgeConfig(px.Addr(), 1))
	waitState(t, mon, "online")
	if m := retainedStatus(t, up); stateOf(m.Payload) != "online" || !m.Retained {
		t.Errorf("retained status while connected: %q retained=%v, want online, retained", m.Payload, m.Retained)
	}

	local := connectLocal(t, p, clientOpts{})
	var metrics map[string]any
	waitFor(t, statusWait, "metrics with local_clients >= 1", func() bool {
		for _, m := range mon.On(metricsTopic) {
			metrics = jsonObject(t, metricsTopic, m.Payload)
			if n, ok := metrics["local_clients"].(float64); ok && n >= 1 {
				return true
			}
		}
		return false
	}, func() string { return mqttPayloads(mon.On(metricsTopic), 1) })
	checkMetrics(t, metrics)
	local.Disconnect(50)

	// Graceful stop: "offline", retained.
	if err := p.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	waitState(t, mon, "offline")
	if m := retainedStatus(t, up); stateOf(m.Payload) != "offline" || !m.Retained {
		t.Errorf("retained status after SIGTERM: %q retained=%v, want offline, retained", m.Payload, m.Retained)
	}

	// kill -9: the will says "offline".
	p.Start()
	waitState(t, mon, "online")
	p.Kill()
	waitState(t, mon, "offline")
	if m := retainedStatus(t, up); stateOf(m.Payload) != "offline" || !m.Retained {
		t.Errorf("retained status after kill -9 (the will): %q retained=%v, want offline, retained", m.Payload, m.Retained)
	}
}

// checkMetrics checks the fields of a metrics document the contract and
// the brief require.
func checkMetrics(t testing.TB, m map[string]any) {
	t.Helper()
	num := func(path string, v any) float64 {
		f, ok := v.(float64)
		if !ok {
			t.Errorf("metrics %s = %v (%T), want a number", path, v, v)
		}
		return f
	}
	q, ok := m["queue"].(map[string]any)
	if !ok {
		t.Fatalf("metrics without a \"queue\" object: %v", m)
	}
	for _, k := range []string{"messages", "bytes", "oldest_age_seconds"} {
		num("queue."+k, q[k])
	}
	uptime := false
	for k, v := range m {
		if strings.HasPrefix(k, "uptime") {
			uptime = true
			if num(k, v) < 0 {
				t.Errorf("metrics %s = %v, want >= 0", k, v)
			}
		}
	}
	if !uptime {
		t.Errorf("metrics without uptime: %v", m)
	}
	if v, _ := m["version"].(string); !strings.Contains(v, testVersion) {
		t.Errorf("metrics version = %v, want %q", m["version"], testVersion)
	}
	if num("rss_bytes", m["rss_bytes"]) <= 0 {
		t.Errorf("metrics rss_bytes = %v, want > 0", m["rss_bytes"])
	}
	if num("disk_free_bytes", m["disk_free_bytes"]) <= 0 {
		t.Errorf("metrics disk_free_bytes = %v, want > 0", m["disk_free_bytes"])
	}
	num("local_clients", m["local_clients"])
	for _, k := range []string{"forwarded", "dropped", "reconnects", "sensor_errors", "sensor_command_errors"} {
		if _, ok := m[k]; !ok {
			t.Errorf("metrics without %q: %v", k, m)
		}
	}
}

// mqttPayloads shows the last n payloads.
func mqttPayloads(ms []mqtttest.Message, n int) string {
	var out []string
	for _, m := range ms[max(0, len(ms)-n):] {
		out = append(out, string(m.Payload))
	}
	return strings.Join(out, "\n")
}

// TestBridge_BootOffline: the gateway boots while the upstream refuses
// connections, acknowledges local QoS 1 publishes (they are queued: `gateway
// queue stats` shows them after a stop), keeps retrying across a restart,
// and drains everything in order once the upstream accepts.
func TestBridge_BootOffline(t *testing.T) {
	const n = 50
	up := mqtttest.StartMosquitto(t, "")
	px := mqtttest.NewProxy(t, up)
	px.SetMode(mqtttest.Refuse)
	sub := mqtttest.SubscribeWith(t, up, mqtttest.ClientOptions{ClientID: "e2e-up-boot", CleanSession: false}, "gw/sensors/#")
	status := mqtttest.Subscribe(t, up, statusTopic)

	p := startGateway(t, bridgeConfig(px.Addr(), 1))
	c := connectLocal(t, p, clientOpts{})
	publishAll(t, c, "sensors/boot", "boot", 1, n, 32)
	waitFor(t, statusWait, "the bridge to retry the refused upstream", func() bool { return px.Accepted() >= 3 }, nil)
	if got := seqs(sub.Messages(), "gw/sensors/boot", "boot"); len(got) != 0 {
		t.Fatalf("%d messages upstream through a refusing proxy", len(got))
	}
	if len(status.On(statusTopic)) != 0 {
		t.Fatalf("status published upstream through a refusing proxy: %q", status.On(statusTopic)[0].Payload)
	}
	if _, _, code := runCLI(t, p.Dir, "queue", "stats", "-config", p.CfgPath); code == 0 {
		t.Errorf("gateway queue stats succeeded while the gateway holds the store")
	}

	if err := p.Stop(); err != nil {
		t.Fatalf("stop while offline: %v", err)
	}
	stdout, stderr, code := runCLI(t, p.Dir, "queue", "stats", "-config", p.CfgPath)
	if code != 0 {
		t.Fatalf("gateway queue stats: exit %d: %s%s", code, stdout, stderr)
	}
	if depth := queueDepth(t, stdout); depth != n {
		t.Errorf("queue stats after a stop while offline: %d messages, want %d:\n%s", depth, n, stdout)
	}

	accepted := px.Accepted()
	p.Start()
	waitFor(t, statusWait, "the restarted bridge to retry", func() bool { return px.Accepted() >= accepted+2 }, nil)
	px.SetMode(mqtttest.Pass)
	waitState(t, status, "online")
	got := waitUpstream(t, sub, "gw/sensors/boot", "boot", span(n), drainWait)
	if v := firstOrderViolation(got); v != "" {
		t.Errorf("out of order: %s", v)
	}
	if len(got) != n {
		t.Errorf("%d arrivals for %d messages (nothing was sent before: no duplicate expected)", len(got), n)
	}
}

// TestBridge_CorruptStore: a data_dir whose gateway.db is garbage: the
// gateway starts with a fresh store, moves the bad file aside as
// gateway.db.corrupt-*, reports it in the metrics, and bridges as usual.
func TestBridge_CorruptStore(t *testing.T) {
	up := mqtttest.StartMosquitto(t, "")
	mon := mqtttest.Subscribe(t, up, "gateways/test/#", "gw/sensors/#")
	p := newProc(t, bridgeConfig(up, 1))
	if err := os.MkdirAll(p.DataDir, 0o750); err != nil {
		t.Fatal(err)
	}
	garbage := []byte(strings.Repeat("this is not a bbolt file\x00\xff", 1000))
	if err := os.WriteFile(filepath.Join(p.DataDir, "gateway.db"), garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	p.Start()
	waitState(t, mon, "online")

	aside, _ := filepath.Glob(filepath.Join(p.DataDir, "gateway.db.corrupt-*"))
	if len(aside) != 1 {
		t.Fatalf("corrupt file moved aside as %v, want one gateway.db.corrupt-*", aside)
	}
	if data, err := os.ReadFile(aside[0]); err != nil || string(data) != string(garbage) {
		t.Errorf("%s does not hold the original bytes (err %v)", aside[0], err)
	}
	var store map[string]any
	waitFor(t, statusWait, "metrics reporting the corrupt store", func() bool {
		ms := mon.On(metricsTopic)
		if len(ms) == 0 {
			return false
		}
		m := jsonObject(t, metricsTopic, ms[len(ms)-1].Payload)
		store, _ = m["store"].(map[string]any)
		return store != nil
	}, nil)
	if store["corrupt_recovered"] != true {
		t.Errorf("metrics store.corrupt_recovered = %v, want true", store["corrupt_recovered"])
	}
	if path, _ := store["corrupt_path"].(string); filepath.Base(path) != filepath.Base(aside[0]) {
		t.Errorf("metrics store.corrupt_path = %q, want %s", path, aside[0])
	}

	c := connectLocal(t, p, clientOpts{})
	c.pub("sensors/after", 1, false, "after-0")
	waitUpstream(t, mon, "gw/sensors/after", "after", []int{0}, drainWait)
}

// TestBridge_Shutdown_DeadUplink: with the uplink blackholed, SIGTERM still
// ends the gateway with status 0 (the offline status cannot be
// acknowledged; the bridge gives up after its shutdown bound), and a second
// signal during that wait forces the exit at once with status 2.
func TestBridge_Shutdown_DeadUplink(t *testing.T) {
	tests := []struct {
		name     string
		signals  int
		wantCode int
	}{
		{"one signal: graceful", 1, 0},
		{"second signal: forced", 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := mqtttest.StartMosquitto(t, "")
			px := mqtttest.NewProxy(t, up)
			status := mqtttest.Subscribe(t, up, statusTopic)
			p := startGateway(t, bridgeConfig(px.Addr(), 1))
			waitState(t, status, "online")
			px.SetMode(mqtttest.Blackhole)

			p.Signal(syscall.SIGTERM)
			if tt.signals == 2 {
				p.WaitLog("shutting down")
				p.Signal(syscall.SIGTERM)
			}
			err, ok := p.WaitExit(stopWait)
			if !ok {
				t.Fatalf("still running %v after %d SIGTERM with a dead uplink", stopWait, tt.signals)
			}
			if code := exitCode(err); code != tt.wantCode {
				t.Errorf("exit status %d (%v), want %d", code, err, tt.wantCode)
			}
			if tt.signals == 2 && !strings.Contains(p.Log(), "again") {
				t.Errorf("no log line about the second signal")
			}
		})
	}
}

// exitCode returns a process's exit status from its Wait error.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
