package bridge_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// commitOptions are options with one QoS 1 out rule and the given delays.
func commitOptions(t *testing.T, q bridge.Queue, addr string, delay, unattended time.Duration) bridge.Options {
	o := options(t, q, "tcp://"+addr)
	o.Rules = []bridge.Rule{{Pattern: "sensors/#", Direction: bridge.Out, QoS: 1, RemotePrefix: "gw/"}}
	o.CommitDelay, o.UnattendedCommitDelay = delay, unattended
	o.UnattendedOrigins = []string{"$sensors"}
	return o
}

// TestBridge_CommitDelay_healthyUplinkWritesNothing: with the upstream
// (Mosquitto on loopback) acknowledging within the commit delay, QoS 1
// messages from a client and from the unattended sensors reach the
// upstream, their publishers are acknowledged, and the queue's file gets
// not one commit.
func TestBridge_CommitDelay_healthyUplinkWritesNothing(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "gw/#")
	db, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	// A generous delay: the point is what is written when the upstream is
	// in time, not how fast a loaded test machine is.
	r := start(t, commitOptions(t, q, addr, 5*time.Second, 5*time.Second))
	r.awaitConnection(t)
	commits := db.Stats().Commits

	const n = 200
	publishSeq(t, r.b, "sensors/client", 0, n, 1)
	for i := range n {
		if err := publish(t, r.b, "$sensors", "sensors/reading", fmt.Sprint(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/sensors/client") == n }, "client messages upstream")
	mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/sensors/reading") == n }, "readings upstream")
	mqtttest.WaitFor(t, func() bool { return q.Stats().Unwritten == 2*n }, "every message acknowledged before its commit")
	if got := db.Stats().Commits - commits; got != 0 {
		t.Errorf("%d commits for messages the upstream acknowledged in time (queue %+v)", got, q.Stats())
	}
	if st := q.Stats(); st.Appended != 0 || st.Messages != 0 {
		t.Errorf("queue %+v, want nothing appended or left", st)
	}
}

// TestBridge_CommitDelay_silentUplinkCommits: when the upstream does not
// acknowledge (blackholed), a client's message is written once its delay
// runs out and only then acknowledged; a sensor reading is acknowledged at
// once and written within its own delay. Both are delivered once the
// uplink heals.
func TestBridge_CommitDelay_silentUplinkCommits(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "gw/#")
	proxy := mqtttest.NewProxy(t, addr)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := commitOptions(t, q, proxy.Addr(), 300*time.Millisecond, 600*time.Millisecond)
	o.KeepAlive = 30 * time.Second // the blackhole must not be noticed during the test
	r := start(t, o)
	r.awaitConnection(t)
	proxy.SetMode(mqtttest.Blackhole)

	start := time.Now()
	if err := publish(t, r.b, "$sensors", "sensors/reading", "r", 1); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited > 200*time.Millisecond {
		t.Errorf("a sensor reading waited %v for its acknowledgement; want it at once", waited)
	}
	if st := q.Stats(); st.Appended != 0 || st.Deferred != 1 {
		t.Errorf("right after the reading: queue %+v, want it deferred", st)
	}
	start = time.Now()
	if err := publish(t, r.b, "app", "sensors/client", "c", 1); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("a client's message was acknowledged after %v, before the upstream or the disk had it", waited)
	}
	// The client's commit came due and took the reading along (it had
	// waited half its delay).
	mqtttest.WaitFor(t, func() bool { return q.Stats().Appended == 2 }, "both messages written")
	proxy.SetMode(mqtttest.Reset)
	proxy.SetMode(mqtttest.Pass)
	mqtttest.WaitFor(t, func() bool {
		return countOn(sub.Messages(), "gw/sensors/reading") >= 1 && countOn(sub.Messages(), "gw/sensors/client") >= 1
	}, "both messages upstream after the uplink healed")
	mqtttest.WaitFor(t, func() bool { return q.Stats().Messages == 0 }, "an empty queue")
}

// TestBridge_CommitDelay_uplinkDownGroups: with the uplink down, messages
// are written within the commit delay, several to a commit, and each
// publisher is acknowledged once its message is on disk.
func TestBridge_CommitDelay_uplinkDownGroups(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	proxy := mqtttest.NewProxy(t, addr)
	proxy.SetMode(mqtttest.Refuse)
	db, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	r := start(t, commitOptions(t, q, proxy.Addr(), 200*time.Millisecond, time.Hour))
	before := db.Stats().Commits
	// A trickle: one message every 5 ms, each publisher waiting for its
	// own acknowledgement only.
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		r.b.OnPublish(fmt.Sprintf("client-%d", i), &packet.Publish{QoS: 1, Topic: "sensors/client", Payload: []byte("x")},
			func(err error) { errs <- err })
		time.Sleep(5 * time.Millisecond)
	}
	for range n {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(mqtttest.DefaultWait):
			t.Fatal("a publisher was never acknowledged")
		}
	}
	if st := q.Stats(); st.Appended != n || st.Messages != n {
		t.Errorf("queue %+v, want the %d messages written", st, n)
	}
	// Written ahead, each would have had a commit of its own.
	if commits := db.Stats().Commits - before; commits > 4 {
		t.Errorf("%d commits for %d messages 5 ms apart with the uplink down, want them grouped", commits, n)
	}
}

// TestBridge_CommitDelay_slowUpstreamWritesAhead: once the upstream's
// acknowledgements take longer than the commit delay (here a proxy adding
// 400 ms per chunk), waiting only adds latency: messages are written ahead
// and their publishers acknowledged without waiting out the delay.
func TestBridge_CommitDelay_slowUpstreamWritesAhead(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	proxy := mqtttest.NewProxy(t, addr)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	const delay = 300 * time.Millisecond
	o := commitOptions(t, q, proxy.Addr(), delay, time.Hour)
	o.KeepAlive = 30 * time.Second
	r := start(t, o)
	r.awaitConnection(t)
	proxy.SetDelay(400 * time.Millisecond)
	proxy.SetMode(mqtttest.Slow)
	// Teach the bridge the upstream's pace: one acknowledgement.
	if err := publish(t, r.b, "app", "sensors/client", "first", 1); err != nil {
		t.Fatal(err)
	}
	mqtttest.WaitFor(t, func() bool { return r.b.Stats().Forwarded >= 1 }, "the first acknowledgement")
	before := q.Stats()
	start := time.Now()
	const n = 5
	for i := range n {
		if err := publish(t, r.b, "app", "sensors/client", fmt.Sprint(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	// Deferred, each would have waited out its delay: n × 300 ms.
	if took := time.Since(start); took >= n*delay {
		t.Errorf("%d messages to a slow upstream were acknowledged in %v: they waited for the delay", n, took)
	}
	if got := q.Stats().Appended - before.Appended; got != n {
		t.Errorf("%d of %d messages written ahead (queue %+v)", got, n, q.Stats())
	}
}
