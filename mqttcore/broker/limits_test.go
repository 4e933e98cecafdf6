package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
)

// deepTopic returns a topic of n levels.
func deepTopic(n int) string { return strings.Repeat("a/", n-1) + "a" }

// Finding 5: topics over the level limit are refused everywhere a client
// can put one: SUBACK 0x80 for a filter (the other filters of the packet
// are granted), the connection closed for a PUBLISH (retained or not) or a
// will, an error for the inline client.
func TestBroker_topicLimits(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	t.Run("subscribe with 32000 levels", func(t *testing.T) {
		c, _ := connectRaw(t, addr, uniqueID(t, "c"), true)
		c.send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{
			{Filter: deepTopic(32000), QoS: 1}, {Filter: deepTopic(200), QoS: 1}, {Filter: deepTopic(201) + "/#", QoS: 0},
		}})
		c.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{0x80, 1, 0x80}})
		if n := b.Stats().Subscriptions; n != 1 {
			t.Fatalf("%d subscriptions, want 1", n)
		}
	})
	for _, retain := range []bool{false, true} {
		t.Run(fmt.Sprint("publish with 201 levels, retain ", retain), func(t *testing.T) {
			c, _ := connectRaw(t, addr, uniqueID(t, "c"), true)
			c.send(&packet.Publish{Topic: deepTopic(201), QoS: 1, PacketID: 1, Retain: retain, Payload: []byte("x")})
			c.expectClosed()
			if n := b.Stats().Retained; n != 0 {
				t.Fatalf("%d retained messages", n)
			}
		})
	}
	t.Run("will with 201 levels", func(t *testing.T) {
		c := dialRaw(t, addr)
		c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: uniqueID(t, "c"), CleanSession: true,
			WillFlag: true, WillTopic: deepTopic(201), WillMessage: []byte("x")})
		c.expectClosed()
	})
	t.Run("inline", func(t *testing.T) {
		err := b.Publish(context.Background(), "test", &packet.Publish{Topic: deepTopic(201), Retain: true, Payload: []byte("x")})
		if !errors.Is(err, ErrTopicLimit) {
			t.Fatalf("Publish: %v, want ErrTopicLimit", err)
		}
		if _, err := b.Subscribe("test", deepTopic(201), 0, func(*packet.Publish) {}); !errors.Is(err, ErrTopicLimit) {
			t.Fatalf("Subscribe: %v, want ErrTopicLimit", err)
		}
	})
}

// The limits are configurable: levels and length.
func TestBroker_topicLimits_configured(t *testing.T) {
	opts := testOptions(t)
	opts.MaxTopicLevels, opts.MaxTopicLength = 3, 10
	_, addr := startBroker(t, opts)
	c, _ := connectRaw(t, addr, uniqueID(t, "c"), true)
	c.send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{
		{Filter: "a/b/c", QoS: 0}, {Filter: "a/b/c/d", QoS: 0}, {Filter: "abcdefghijk", QoS: 0}, {Filter: "abcdefghij", QoS: 0},
	}})
	c.expectPacket(&packet.Suback{PacketID: 1, ReturnCodes: []byte{0, 0x80, 0x80, 0}})
	c.send(&packet.Publish{Topic: "a/b/c", Payload: []byte("x")})
	if p := c.publish(); p.Topic != "a/b/c" {
		t.Fatalf("got %s", p.Topic)
	}
	c.send(&packet.Publish{Topic: "abcdefghijk", Payload: []byte("x")})
	c.expectClosed()
}

// Finding 5, the memory bound: 20 clients each send one 64 KiB SUBSCRIBE
// of 32,000 levels (distinct filters) to a broker in a child process. Before the limit each
// cost ~11 MiB (the trie's nodes); now the broker's heap and RSS grow by
// no more than the connections themselves. Not under -race (memory
// figures need a normal build).
func TestBroker_topicLimits_memory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("SKIPPED: memory figures need a normal build (not -race, not -short)")
	}
	child := startChild(t)
	before := child.stats()
	const clients = 20
	filter := deepTopic(32000)
	granted := 0
	for i := range clients {
		c, _ := connectRawQuiet(t, child.addr, fmt.Sprint("deep-", i))
		c.send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: fmt.Sprint(i, "/", filter), QoS: 1}}})
		if ack, ok := c.read().(*packet.Suback); !ok || ack.ReturnCodes[0] != 0x80 {
			granted++
		}
	}
	after := child.stats()
	heap, rss := after[1]-before[1], after[0]-before[0]
	t.Logf("%d deep SUBSCRIBEs of %d bytes: heap +%d KiB, RSS +%d KiB", clients, len(filter), heap, rss)
	if heap > 4<<10 || rss > 16<<10 {
		t.Fatalf("heap +%d KiB, RSS +%d KiB for %d SUBSCRIBEs of 64 KiB: want ≤ 4 MiB heap, ≤ 16 MiB RSS", heap, rss, clients)
	}
	if granted > 0 {
		t.Fatalf("%d deep subscriptions granted", granted)
	}
}

// Smaller item of issue 9: large packets that never complete (here 4 × 32
// MiB of a 48 MiB PUBLISH, under a 64 MiB max_packet_size) must not leave
// their buffers' memory behind once the clients are gone: it used to stay
// until the runtime's next forced GC and scavenge, minutes later.
func TestBroker_largePartialPackets_memory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("SKIPPED: memory figures need a normal build (not -race, not -short)")
	}
	t.Setenv("EDGEGW_CHILD_MAX_PACKET", fmt.Sprint(64<<20))
	child := startChild(t)
	base := child.rss()
	const clients, announced, sent = 4, 48 << 20, 32 << 20
	var conns []*rawClient
	for i := range clients {
		c, _ := connectRawQuiet(t, child.addr, fmt.Sprint("big-", i))
		header := append([]byte{0x30}, varint(announced)...)
		c.sendBytes(append(header, make([]byte, sent)...))
		conns = append(conns, c)
	}
	waitForMemory(t, "the buffers to fill", func() bool { return child.rss() > base+clients*sent>>10 })
	peak := child.rss()
	for _, c := range conns {
		_ = c.conn.Close()
	}
	waitForMemory(t, "the memory to be returned", func() bool { return child.rss() < base+32<<10 })
	t.Logf("RSS: %d KiB idle, %d KiB with %d partial packets, %d KiB after they closed", base, peak, clients, child.rss())
}

// waitForMemory is waitFor with a longer deadline, for memory to settle.
func waitForMemory(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !mqtttest.Poll(3*releaseGap, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// varint encodes an MQTT Remaining Length.
func varint(n int) []byte {
	var b []byte
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}
