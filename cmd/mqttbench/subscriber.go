package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// maxLatencySamples bounds the latencies one subscriber records (32 MiB).
const maxLatencySamples = 4 << 20

// subscriber receives benchmark messages, acknowledges them as its QoS
// requires (PUBACK; PUBREC then PUBCOMP on PUBREL), and counts them by
// (publisher, sequence number). Its Tracker and latency samples belong to
// the reading goroutine until run has returned; progress is readable at any
// time through the atomic counters.
type subscriber struct {
	c       *conn
	qos     byte // the QoS every message must arrive with
	run     uint32
	track   *Tracker
	latency []time.Duration // nil unless latencies are recorded
	stray   int64           // messages without this run's header
	credits chan struct{}   // end-to-end credit, freed on delivery; nil: none
	freed   []uint64        // per publisher, credit freed for sequence numbers below this

	unique atomic.Int64 // == track.Unique
	first  atomic.Int64 // when the first new message arrived, ns since epoch
	last   atomic.Int64 // when the last new message arrived, ns since epoch
}

// newSubscriber wraps c for messages from publishers publishers at qos.
func newSubscriber(c *conn, run uint32, qos byte, publishers int, recordLatency bool) *subscriber {
	s := &subscriber{c: c, qos: qos, run: run, track: NewTracker(publishers)}
	if recordLatency {
		s.latency = make([]time.Duration, 0, 1<<14)
	}
	return s
}

// handle processes what the broker sends to a subscriber.
func (s *subscriber) handle(pk packet.Packet) error {
	switch m := pk.(type) {
	case *packet.Publish:
		if m.QoS != s.qos {
			return fmt.Errorf("mqttbench: subscriber: message on %q delivered at qos %d, want %d", m.Topic, m.QoS, s.qos)
		}
		s.deliver(m.Payload)
		switch m.QoS {
		case 1:
			return s.c.write(&packet.Puback{PacketID: m.PacketID})
		case 2:
			return s.c.write(&packet.Pubrec{PacketID: m.PacketID})
		}
		return nil
	case *packet.Pubrel:
		return s.c.write(&packet.Pubcomp{PacketID: m.PacketID})
	case *packet.Pingresp:
		return nil
	case *packet.Disconnect:
		return fmt.Errorf("mqttbench: subscriber: DISCONNECT from the broker: %v", m.ReasonCode)
	}
	return fmt.Errorf("mqttbench: subscriber: unexpected %v from the broker", pk.Type())
}

//

// deliver counts one message and records its latency.
func (s *subscriber) deliver(payload []byte) {
	t := now()
	h, err := parseHeader(payload, s.run)
	if err != nil {
		s.stray++
		return
	}
	before := s.track.Unique
	s.track.Add(h.Pub, h.Seq)
	if s.track.Unique == before {
		return // a duplicate or out of range: counted by the tracker
	}
	s.free(h)
	s.unique.Add(1)
	s.first.CompareAndSwap(0, t)
	s.last.Store(t)
	if s.latency != nil && len(s.latency) < maxLatencySamples {
		s.latency = append(s.latency, time.Duration(t-h.Sent))
	}
}

// free returns the end-to-end credit of message h and of every earlier
// message of the same publisher: one publisher's messages arrive in order
// [MQTT-4.6.0-5], so those that have not arrived by now were lost (QoS 0) and
// must not hold credit forever.
func (s *subscriber) free(h header) {
	if s.credits == nil || int(h.Pub) >= len(s.freed) || h.Seq < s.freed[h.Pub] {
		return
	}
	for n := h.Seq + 1 - s.freed[h.Pub]; n > 0; n-- {
		select {
		case <-s.credits:
		default:
			return // cannot happen: each message took credit before it was sent
		}
	}
	s.freed[h.Pub] = h.Seq + 1
}
