package bridge_test

import (
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// TestBridge_drainBacklog: a backlog stored while the bridge was not running
// drains completely into Mosquitto, in order, while live messages keep
// flowing behind it. It logs the drain rate (no timing assertion: the
// machine is shared); see BenchmarkBridge_drain for a measurement.
func TestBridge_drainBacklog(t *testing.T) {
	n := 20000
	if raceEnabled || testing.Short() {
		n = 5000 // the race detector slows the three parties down ~5x
	}
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "gw/#")
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, "tcp://"+addr)
	b := newBridge(t, o)
	publishSeq(t, b, "sensors/backlog", 0, n, 1) // stored, not sent: Run not called yet

	begin := time.Now()
	r := startBridge(t, b)
	r.awaitConnection(t)
	publishSeq(t, r.b, "sensors/live", 0, 100, 1)
	waitDrained(t, q)
	elapsed := time.Since(begin)
	t.Logf("drained %d messages in %v: %.0f msg/s (with -race: %v)", n+100, elapsed.Round(time.Millisecond),
		float64(n+100)/elapsed.Seconds(), raceEnabled)
	waitSequence(t, sub, "gw/sensors/backlog", n)
	waitSequence(t, sub, "gw/sensors/live", 100)
}

// BenchmarkBridge_drain measures how fast a backlog of QoS 1 messages drains
// into Mosquitto (b.N messages, each acknowledged by PUBACK and deleted from
// the queue). It fails, within mqtttest.DefaultWait, when the queue does not
// drain or a message is missing upstream.
func BenchmarkBridge_drain(b *testing.B) { benchmarkDrain(b, packet.V311) }

// BenchmarkBridge_drainV5 is BenchmarkBridge_drain over MQTT 5.0.
func BenchmarkBridge_drainV5(b *testing.B) { benchmarkDrain(b, packet.V5) }

func benchmarkDrain(b *testing.B, v packet.Version) {
	addr := mqtttest.StartMosquitto(b, "")
	sub := mqtttest.Subscribe(b, addr, "gw/#")
	_, q := openQueue(b, b.TempDir(), offline.QueueOptions{})
	o := options(b, q, "tcp://"+addr)
	o.Protocol = v
	br := newBridge(b, o)
	publishSeq(b, br, "sensors/bench", 0, b.N, 1)
	b.ResetTimer()
	r := startBridge(b, br)
	waitDrained(b, q)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
	waitSequence(b, sub, "gw/sensors/bench", b.N) // every message arrived, in order
	r.stop(b)
}

// TestBridge_drainRate: with DrainRate set, a backlog still drains
// completely and in order, and no faster than the rate allows. (A lower
// bound only: a slow machine cannot make it fail.)
func TestBridge_drainRate(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "gw/#")
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, "tcp://"+addr)
	o.DrainRate = 200 // msg/s; the limiter allows a burst of 100 ms worth
	b := newBridge(t, o)
	publishSeq(t, b, "sensors/rate", 0, 60, 1)
	begin := time.Now()
	startBridge(t, b)
	waitDrained(t, q)
	if elapsed := time.Since(begin); elapsed < 150*time.Millisecond {
		t.Errorf("60 messages at 200/s drained in %v, want at least 150ms (40 beyond the burst)", elapsed)
	}
	waitSequence(t, sub, "gw/sensors/rate", 60)
}
