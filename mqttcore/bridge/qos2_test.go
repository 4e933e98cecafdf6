package bridge_test

import (
	"context"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// markHook is the real queue with a callback after each persisted PUBREC:
// the bridge sends PUBREL only after the mark is durable, so the callback
// can cut the link exactly between the two.
type markHook struct {
	*offline.Queue
	onMarked func(seq uint64)
}

func (h *markHook) MarkReceivedAsync(seq uint64, done func(error)) {
	h.Queue.MarkReceivedAsync(seq, func(err error) {
		if err == nil && h.onMarked != nil {
			h.onMarked(seq)
		}
		done(err)
	})
}

// TestBridge_QoS2_exactlyOnceAcrossRestart stops the bridge in the middle of
// a QoS 2 exchange, after the PUBREC was persisted, and restarts it with the
// same queue file: the upstream subscriber receives the message exactly once.
// In "pubrel lost" the PUBREL never reaches Mosquitto; in "pubcomp lost" it
// does (the message is delivered) but the PUBCOMP never comes back, so a
// bridge that published again instead of releasing would deliver it twice.
// The "v5" cases speak MQTT 5.0 to Mosquitto (a session kept by its Session
// Expiry Interval instead of the clean session flag).
func TestBridge_QoS2_exactlyOnceAcrossRestart(t *testing.T) {
	cases := []struct {
		name  string
		cut   mqtttest.Mode // proxy mode set right after MarkReceived
		proto packet.Version
	}{
		{"pubrel lost", mqtttest.Blackhole, packet.V311},
		{"pubcomp lost", mqtttest.DropToClient, packet.V311},
		{"pubrel lost v5", mqtttest.Blackhole, packet.V5},
		{"pubcomp lost v5", mqtttest.DropToClient, packet.V5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := mqtttest.StartMosquitto(t, "")
			sub := mqtttest.Subscribe(t, addr, "gw/#")
			proxy := mqtttest.NewProxy(t, addr)
			dir := t.TempDir()
			db, q := openQueue(t, dir, offline.QueueOptions{})
			marked := make(chan uint64, 1)
			hq := &markHook{Queue: q, onMarked: func(seq uint64) {
				proxy.SetMode(tc.cut)
				marked <- seq
			}}
			o := options(t, hq, "tcp://"+proxy.Addr())
			o.Protocol = tc.proto
			o.ShutdownTimeout = 200 * time.Millisecond
			r := start(t, o)
			r.awaitConnection(t)

			if err := publish(t, r.b, "c", "sensors/once", "payload", 2); err != nil {
				t.Fatal(err)
			}
			seq := <-marked
			if tc.cut == mqtttest.DropToClient {
				mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/sensors/once") == 1 }, "delivery on PUBREL")
			}
			r.stop(t)

			// The entry is still queued, marked received, on disk.
			entries := readAll(t, q)
			if len(entries) != 1 || entries[0].Seq != seq || !entries[0].Received {
				t.Fatalf("queue after stop: %+v, want seq %d marked received", entries, seq)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			// Restart from the same file, connecting directly.
			_, q2 := openQueue(t, dir, offline.QueueOptions{})
			o2 := options(t, q2, "tcp://"+addr)
			o2.Protocol = tc.proto
			r2 := start(t, o2)
			r2.awaitConnection(t)
			waitDrained(t, q2)
			if err := publish(t, r2.b, "c", "sensors/marker", "after", 2); err != nil {
				t.Fatal(err)
			}
			mqtttest.WaitFor(t, func() bool { return countOn(sub.Messages(), "gw/sensors/marker") == 1 }, "marker")
			if got := countOn(sub.Messages(), "gw/sensors/once"); got != 1 {
				t.Fatalf("subscriber received the QoS 2 message %d times, want exactly 1", got)
			}
			if m := sub.On("gw/sensors/once")[0]; m.QoS != 2 || string(m.Payload) != "payload" {
				t.Errorf("got %+v", m)
			}
		})
	}
}

// readAll returns every entry of q without consuming it.
func readAll(t *testing.T, q *offline.Queue) []offline.Entry {
	t.Helper()
	if q.Stats().Messages == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	entries, err := q.Read(ctx, 0, 1000)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return entries
}
