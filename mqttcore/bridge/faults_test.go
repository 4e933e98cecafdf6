package bridge_test

import (
	"errors"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline"
)

// TestBridge_outageThenRecovery: messages acknowledged locally before,
// during and after an outage (connections reset, new ones refused) all reach
// the upstream subscriber, first copies in order.
func TestBridge_outageThenRecovery(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "gw/#")
	proxy := mqtttest.NewProxy(t, addr)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	r := start(t, options(t, q, "tcp://"+proxy.Addr()))
	r.awaitConnection(t)

	publishSeq(t, r.b, "sensors/s", 0, 200, 1)
	proxy.SetMode(mqtttest.Reset)
	mqtttest.WaitFor(t, func() bool { return !r.b.Stats().Connected }, "bridge notices the outage")
	publishSeq(t, r.b, "sensors/s", 200, 500, 1) // acknowledged while offline: on disk
	if got := q.Stats().Messages; got < 300 {
		t.Fatalf("queue depth %d during outage, want >= 300", got)
	}
	mqtttest.WaitFor(t, func() bool { return r.b.Stats().ConnectFailures >= 2 }, "reconnect attempts during the outage")

	proxy.SetMode(mqtttest.Pass)
	publishSeq(t, r.b, "sensors/s", 500, 600, 1)
	waitDrained(t, q)
	dups := waitSequence(t, sub, "gw/sensors/s", 600)
	st := r.b.Stats()
	t.Logf("duplicates %d, reconnects %d, connect failures %d", dups, st.Reconnects, st.ConnectFailures)
	if st.Reconnects < 1 {
		t.Errorf("Reconnects = %d, want >= 1", st.Reconnects)
	}
}

// TestBridge_flappingUplink: the link is reset every few hundred
// milliseconds while a client publishes steadily; once it settles, every
// acknowledged message is upstream, first copies in order.
func TestBridge_flappingUplink(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "gw/#")
	proxy := mqtttest.NewProxy(t, addr)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	r := start(t, options(t, q, "tcp://"+proxy.Addr()))
	r.awaitConnection(t)

	// Flap through 12 phases of 150-300 ms while a client publishes
	// batches of 20 messages every 10 ms. Between resets the link is slow,
	// so messages are in flight when it breaks.
	proxy.SetDelay(2 * time.Millisecond)
	flapped := make(chan struct{})
	go func() {
		defer close(flapped)
		modes := []mqtttest.Mode{mqtttest.Reset, mqtttest.Slow}
		for i := 0; i < 12; i++ {
			proxy.SetMode(modes[i%len(modes)])
			time.Sleep(time.Duration(150+50*(i%4)) * time.Millisecond)
		}
		proxy.SetMode(mqtttest.Pass)
	}()
	n := 0
	for done := false; !done; n += 20 {
		publishSeq(t, r.b, "sensors/flap", n, n+20, 1)
		select {
		case <-flapped:
			done = true
		case <-time.After(10 * time.Millisecond):
		}
	}
	waitDrained(t, q)
	dups := waitSequence(t, sub, "gw/sensors/flap", n)
	st := r.b.Stats()
	t.Logf("%d messages, duplicates %d, reconnects %d, proxy connections %d", n, dups, st.Reconnects, proxy.Accepted())
	if st.Reconnects < 3 {
		t.Errorf("Reconnects = %d, want the flapping to have cut the link at least twice", st.Reconnects)
	}
}

// TestBridge_blackholedUplink: a link that goes silent without FIN or RST is
// detected by the keepalive; the bridge reconnects once the path is back and
// delivers what was published meanwhile.
func TestBridge_blackholedUplink(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "gw/#")
	proxy := mqtttest.NewProxy(t, addr)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	r := start(t, options(t, q, "tcp://"+proxy.Addr())) // keepalive 1 s
	r.awaitConnection(t)
	publishSeq(t, r.b, "sensors/bh", 0, 10, 1)
	waitDrained(t, q)

	proxy.SetMode(mqtttest.Blackhole)
	publishSeq(t, r.b, "sensors/bh", 10, 20, 1)
	mqtttest.WaitFor(t, func() bool { return !r.b.Stats().Connected }, "keepalive to detect the blackhole")
	if err := r.b.Stats().LastDisconnect; !errors.Is(err, bridge.ErrKeepAlive) {
		t.Fatalf("LastDisconnect = %v, want ErrKeepAlive", err)
	}
	proxy.SetMode(mqtttest.Pass)
	r.awaitConnection(t)
	waitDrained(t, q)
	waitSequence(t, sub, "gw/sensors/bh", 20)
	if st := r.b.Stats(); st.Reconnects < 1 {
		t.Errorf("no reconnect after the blackhole: %s", describe(st))
	}
}

// TestBridge_bootWithUpstreamDown: the bridge starts while the upstream
// refuses connections, keeps trying, and delivers the messages stored
// meanwhile once the upstream comes up.
func TestBridge_bootWithUpstreamDown(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "gw/#")
	proxy := mqtttest.NewProxy(t, addr)
	proxy.SetMode(mqtttest.Refuse)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, "tcp://"+proxy.Addr())
	r := start(t, o)

	publishSeq(t, r.b, "sensors/boot", 0, 100, 1)
	if err := publish(t, r.b, "c", "sensors/boot0", "lost", 0); err != nil {
		t.Fatal(err)
	}
	mqtttest.WaitFor(t, func() bool { return r.b.Stats().ConnectFailures >= 3 }, "three failed rounds")
	st := r.b.Stats()
	if st.Connected || st.LastError == nil || st.Dropped[bridge.DroppedOffline] != 1 {
		t.Fatalf("while down: %s", describe(st))
	}
	proxy.SetMode(mqtttest.Pass)
	r.awaitConnection(t)
	waitDrained(t, q)
	waitSequence(t, sub, "gw/sensors/boot", 100)
}

// TestBridge_failover: with the first address unusable the bridge uses the
// second; when the one in use dies it moves to the other, and nothing
// acknowledged is lost on the way.
func TestBridge_failover(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	sub := mqtttest.Subscribe(t, addr, "gw/#")
	a, b := mqtttest.NewProxy(t, addr), mqtttest.NewProxy(t, addr)
	a.SetMode(mqtttest.Refuse)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	addrA, addrB := "tcp://"+a.Addr(), "tcp://"+b.Addr()
	r := start(t, options(t, q, "tcp://no-such-host.invalid:1883", addrA, addrB))
	r.awaitConnection(t)
	if got := r.b.Stats().Address; got != addrB {
		t.Fatalf("connected to %s, want the third address %s", got, addrB)
	}
	publishSeq(t, r.b, "sensors/fo", 0, 100, 1)

	a.SetMode(mqtttest.Pass)
	b.SetMode(mqtttest.Reset) // kills the connection in use and refuses new ones
	publishSeq(t, r.b, "sensors/fo", 100, 200, 1)
	mqtttest.WaitFor(t, func() bool { st := r.b.Stats(); return st.Connected && st.Address == addrA }, "failover to %s", addrA)
	publishSeq(t, r.b, "sensors/fo", 200, 300, 1)
	waitDrained(t, q)
	waitSequence(t, sub, "gw/sensors/fo", 300)
}
