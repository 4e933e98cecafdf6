package bridge_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// TestBridge_In_ackAfterLocalPublish: a command queued upstream for the
// bridge's persistent session is not acknowledged while the local publish
// is still blocked: stopped at that moment, the bridge gets it again on the
// next connection; once published locally it is acknowledged and never
// delivered again.
func TestBridge_In_ackAfterLocalPublish(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, "tcp://"+addr)
	local := o.Local.(*fakeLocal)

	r1 := start(t, o) // creates the persistent session and subscription
	r1.awaitConnection(t)
	waitSubscribed(t, addr, "gw/cmd/probe", local)
	r1.stop(t)

	pub := mqtttest.Connect(t, addr, mqtttest.ClientOptions{})
	if tok := pub.Publish("gw/cmd/door", 1, false, "open"); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}

	gate := make(chan struct{})
	local.setGate(gate)
	calls := local.callCount()
	r2 := start(t, o)
	mqtttest.WaitFor(t, func() bool { return local.callCount() > calls }, "queued command to reach the bridge")
	r2.stop(t) // Local.Publish is still blocked: no PUBACK may have gone out
	if n := len(onTopic(local.got(), "cmd/door")); n != 0 {
		t.Fatalf("blocked publish recorded %d times", n)
	}

	close(gate)
	r3 := start(t, o)
	mqtttest.WaitFor(t, func() bool { return len(onTopic(local.got(), "cmd/door")) == 1 }, "redelivery after restart")
	r3.stop(t)

	r4 := start(t, o)
	r4.awaitConnection(t)
	waitSubscribed(t, addr, "gw/cmd/probe2", local)
	if n := len(onTopic(local.got(), "cmd/door")); n != 1 {
		t.Fatalf("command delivered %d times locally, want 1 (acknowledged after the local publish)", n)
	}
}

// TestBridge_In_localRefusal: a message the local broker refuses is
// acknowledged upstream (retrying would not help), dropped and counted.
func TestBridge_In_localRefusal(t *testing.T) {
	s := newScripted(t)
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	o := options(t, q, s.addr())
	local := o.Local.(*fakeLocal)
	local.fail = map[string]bool{"cmd/bad": true}
	r := start(t, o)
	c, _ := s.accept()
	c.connack(false)
	c.write(&packet.Publish{QoS: 1, PacketID: 5, Topic: "gw/cmd/bad", Payload: []byte("x")})
	if p, ok := c.read().(*packet.Puback); !ok || p.PacketID != 5 {
		t.Fatalf("want PUBACK 5, got %T", p)
	}
	if st := r.b.Stats(); st.Dropped[bridge.DroppedLocalError] != 1 || st.Received != 0 {
		t.Errorf("stats %s", describe(st))
	}
}

// TestBridge_OnPublish_storeFailure: when the queue cannot store a QoS 1
// message, done reports the error (the publisher is not acknowledged and
// will send again) and it is counted.
func TestBridge_OnPublish_storeFailure(t *testing.T) {
	db, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	b := newBridge(t, options(t, q, "tcp://127.0.0.1:1"))
	db.Close()
	if err := publish(t, b, "c", "sensors/x", "v", 1); !errors.Is(err, offline.ErrClosed) {
		t.Fatalf("done(%v), want offline.ErrClosed", err)
	}
	if err := publish(t, b, "c", "elsewhere", "v", 1); err != nil {
		t.Fatalf("non-matching message: done(%v)", err)
	}
	if st := b.Stats(); st.StoreErrors != 1 {
		t.Errorf("StoreErrors = %d, want 1", st.StoreErrors)
	}
}

// TestBridge_Run_once: Run returns ErrRunning when called while running;
// AwaitConnection returns the context's error when it ends first.
func TestBridge_Run_once(t *testing.T) {
	_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
	r := start(t, options(t, q, "tcp://127.0.0.1:1"))
	mqtttest.WaitFor(t, func() bool { return r.b.Stats().ConnectFailures > 0 }, "Run to start")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := r.b.Run(ctx2); !errors.Is(err, bridge.ErrRunning) {
		t.Fatalf("second Run = %v, want ErrRunning", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.b.AwaitConnection(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("AwaitConnection = %v, want context.Canceled", err)
	}
}

// TestBridge_noQueue: a bridge whose out rules are QoS 0 needs no queue;
// it forwards directly and reports an empty queue in its metrics.
func TestBridge_noQueue(t *testing.T) {
	addr := mqtttest.StartMochi(t)
	sub := mqtttest.Subscribe(t, addr, "gw/#", "mon/metrics")
	o := options(t, nil, "tcp://"+addr)
	o.Queue = nil
	o.Rules = []bridge.Rule{{Pattern: "sensors/#", Direction: bridge.Out, QoS: 0, RemotePrefix: "gw/"}}
	o.Monitor = bridge.Monitor{TopicPrefix: "mon", MetricsInterval: 20 * time.Millisecond}
	r := start(t, o)
	r.awaitConnection(t)
	if err := publish(t, r.b, "c", "sensors/a", "x", 1); err != nil {
		t.Fatal(err)
	}
	mqtttest.WaitFor(t, func() bool { return sub.Count("gw/sensors/a") == 1 && sub.Count("mon/metrics") > 0 }, "message and metrics")
	if m := sub.On("gw/sensors/a")[0]; m.QoS != 0 {
		t.Errorf("forwarded at QoS %d, want the rule's 0", m.QoS)
	}
}
