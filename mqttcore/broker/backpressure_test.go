package broker

import (
	"bytes"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Finding 9: a client sending QoS 1 messages without waiting for its
// PUBACKs, while the hook (the bridge's durable queue) stores nothing,
// stops being read once MaxUnstored bytes wait for the hook: the broker
// holds at most that much plus one message, not every message the client
// can push (before: up to 1,024 × max_packet_size, 837 MiB seen). When the
// hook catches up, everything is acknowledged in order.
func TestBroker_backpressure_unstored(t *testing.T) {
	hook := newAsyncHook(t, true)
	opts := testOptions(t)
	opts.Hook, opts.MaxUnstored = hook, 1<<20
	_, addr := startBroker(t, opts)
	c, _ := connectRaw(t, addr, uniqueID(t, "fast"), true)
	const n, size = 64, 128 << 10 // 8 MiB in all
	sent := make(chan error, 1)
	go func() { // the writes block once the broker stops reading
		var buf bytes.Buffer
		for i := range n {
			b, _ := packet.Append(nil, &packet.Publish{Topic: "fast/x", QoS: 1, PacketID: uint16(i + 1), Payload: make([]byte, size)})
			buf.Write(b)
		}
		_ = c.conn.SetWriteDeadline(time.Now().Add(wait))
		_, err := c.conn.Write(buf.Bytes())
		sent <- err
	}()
	time.Sleep(300 * time.Millisecond) // let the client push what it can
	if got, max := len(hook.calls()), opts.MaxUnstored/size+1; got > max {
		t.Fatalf("%d messages (%d KiB) handed to a hook that stored none, want ≤ %d", got, got*size>>10, max)
	}
	hook.open()
	if err := <-sent; err != nil {
		t.Fatalf("client write: %v", err)
	}
	for i := range n {
		c.expectPacket(&packet.Puback{PacketID: uint16(i + 1)})
	}
	if got := len(hook.calls()); got != n {
		t.Fatalf("hook saw %d messages, want %d", got, n)
	}
}
