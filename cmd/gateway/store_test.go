package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
)

// wearConfig is bridgeConfig with a simulated sensor publishing two
// quantities every 100 ms at QoS 1, and the given bridge.queue keys.
func wearConfig(upstream, queue string) string {
	return bridgeConfig(upstream, 1, queue) + `sensors:
  - {name: wear, driver: sim, interval: 100ms, qos: 1, quantities: [temperature, humidity]}
`
}

// storeCommits returns store.commits from the newest metrics message that
// is newer than after (by its position in the subscriber's log).
func storeCommits(t *testing.T, mon *mqtttest.Subscriber, after int) (commits float64, unwritten float64, at int) {
	t.Helper()
	waitFor(t, statusWait, "a new metrics message", func() bool {
		return len(mon.On(metricsTopic)) > after
	}, nil)
	ms := mon.On(metricsTopic)
	m := jsonObject(t, metricsTopic, ms[len(ms)-1].Payload)
	store, _ := m["store"].(map[string]any)
	queue, _ := m["queue"].(map[string]any)
	c, ok1 := store["commits"].(float64)
	u, ok2 := queue["unwritten"].(float64)
	if !ok1 || !ok2 {
		t.Fatalf("metrics without store.commits or queue.unwritten: %s", ms[len(ms)-1].Payload)
	}
	return c, u, len(ms)
}

// TestGateway_healthyUplinkWritesNothing: the real binary with a sensor and a
// local client publishing at QoS 1 to Mosquitto on loopback. Every message
// arrives upstream, the client gets its PUBACKs, and the store commits
// nothing while they flow: the upstream acknowledged each one within its
// commit delay (issue: durability at near-zero flash wear).
func TestGateway_healthyUplinkWritesNothing(t *testing.T) {
	up := mqtttest.StartMosquitto(t, "")
	upSub := mqtttest.Subscribe(t, up, "gw/#")
	mon := mqtttest.Subscribe(t, up, "gateways/test/#")
	// A generous client delay: the point is what a timely upstream costs,
	// not how fast a loaded test machine acknowledges.
	p := startGateway(t, wearConfig(up, "  queue: {commit_delay: 1s}\n"))
	waitState(t, mon, "online")
	waitFor(t, statusWait, "readings upstream", func() bool { return len(upSub.On("gw/sensors/wear/temperature")) >= 3 }, nil)
	local := connectLocal(t, p, clientOpts{})
	defer local.Disconnect(50)
	// Two metrics messages after start-up settled: the baseline.
	_, _, seen := storeCommits(t, mon, 0)
	before, unwrittenBefore, seen := storeCommits(t, mon, seen)
	readingsBefore := len(upSub.On("gw/sensors/wear/temperature"))

	const n = 200
	publishAll(t, local, "sensors/app", "wear", 1, n, 64)
	waitUpstream(t, upSub, "gw/sensors/app", "wear", seqRange(0, n), drainWait)
	time.Sleep(1500 * time.Millisecond) // more readings: 2 per 100 ms
	after, unwrittenAfter, _ := storeCommits(t, mon, seen+1)
	readings := len(upSub.On("gw/sensors/wear/temperature")) - readingsBefore

	if readings < 5 {
		t.Fatalf("only %d readings upstream meanwhile", readings)
	}
	if got := unwrittenAfter - unwrittenBefore; got < n+float64(readings) {
		t.Errorf("queue.unwritten grew by %v, want at least %d messages + %d readings", got, n, readings)
	}
	if after != before {
		t.Errorf("the store committed %v times while %d messages and %d readings went to a healthy upstream; want 0\n%s",
			after-before, n, readings, p.LogTail(20))
	}
}

// seqRange returns from, from+1, …, to-1.
func seqRange(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// TestGateway_bridgeKeepAliveZero: bridge.keepalive: 0s disables the
// keepalive, as the README says: the CONNECT the upstream gets says 0.
func TestGateway_bridgeKeepAliveZero(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := strings.Replace(bridgeConfig(ln.Addr().String(), 1), "  keepalive: 2s\n", "  keepalive: 0s\n", 1)
	startGateway(t, cfg)
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(statusWait))
	nc, err := ln.Accept()
	if err != nil {
		t.Fatalf("the gateway never connected: %v", err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(statusWait))
	p, err := packet.NewReader(nc, 1<<20).Read()
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := p.(*packet.Connect); !ok || c.KeepAlive != 0 {
		t.Fatalf("first packet %+v, want a CONNECT with keepalive 0", p)
	}
}
