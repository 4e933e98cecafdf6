package main

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Packet identifier states of a publisher's window slots.
const (
	slotFree      = 0
	slotPublished = 1 // PUBLISH sent, awaiting PUBACK (QoS 1) or PUBREC (QoS 2)
	slotReceived  = 2 // QoS 2: PUBREC received and PUBREL sent, awaiting PUBCOMP
)

// publisher sends numbered messages on one topic through an inflight window:
// at QoS 1 and 2 at most window messages are unacknowledged at once, and a
// slot is freed only by the PUBACK (QoS 1) or PUBCOMP (QoS 2) that ends its
// flow [MQTT-4.3.2] [MQTT-4.3.3].
type publisher struct {
	c     *conn
	qos   byte
	index uint32
	run   uint32

	ids   chan uint16     // free packet identifiers: the window
	state []atomic.Uint32 // per packet identifier, slotFree/Published/Received
	acked atomic.Int64    // flows completed

	// credits, one channel per subscriber, bound the end-to-end backlog:
	// a message takes a slot in each before it is sent and the subscriber
	// frees it on delivery (see subscriber.free). Nil: no bound. Shared by
	// all publishers.
	credits []chan struct{}

	pub     packet.Publish // reused for every message
	payload []byte
	sent    uint64 // messages sent so far; owned by the sending goroutine
}

// newPublisher wraps c. window is the inflight limit at QoS 1 and 2; in
// MQTT 5.0 at most the broker's Receive Maximum.
func newPublisher(c *conn, run, index uint32, qos byte, window, payloadSize int) *publisher {
	window = min(window, c.receiveMax)
	p := &publisher{c: c, qos: qos, index: index, run: run, payload: make([]byte, payloadSize)}
	p.pub = packet.Publish{QoS: qos, Topic: fmt.Sprintf("bench/%08x/%d", run, index), Payload: p.payload}
	if qos > 0 {
		p.ids = make(chan uint16, window)
		p.state = make([]atomic.Uint32, window+1)
		for id := 1; id <= window; id++ {
			p.ids <- uint16(id)
		}
	}
	for i := headerSize; i < payloadSize; i++ {
		p.payload[i] = 'x'
	}
	return p
}

// publish sends the next message, waiting for end-to-end credit and a free
// window slot first. It returns ctx's error if ctx ends while it waits.
func (p *publisher) publish(ctx context.Context) error {
	for _, c := range p.credits {
		select {
		case c <- struct{}{}:
		default:
			select {
			case c <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if p.qos > 0 {
		select {
		case id := <-p.ids:
			p.pub.PacketID = id
			p.state[id].Store(slotPublished)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	putHeader(p.payload, header{Run: p.run, Pub: p.index, Seq: p.sent, Sent: now()})
	if err := p.c.write(&p.pub); err != nil {
		return err
	}
	p.sent++
	return nil
}

// sendUntil publishes as fast as the window allows until deadline; with
// rate > 0 it paces itself to rate messages per second instead, sending
// whatever fell due at each wake-up.
func (p *publisher) sendUntil(ctx context.Context, start, deadline time.Time, rate float64) error {
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(time.Second) / rate)
	}
	// Waits (pacing, window, credit) end at the deadline.
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for i := int64(0); ; i++ {
		t := time.Now()
		if !t.Before(deadline) {
			return nil
		}
		var err error
		if due := start.Add(time.Duration(i) * interval); interval > 0 && t.Before(due) {
			err = sleep(dctx, due.Sub(t))
		}
		if err == nil {
			err = p.publish(dctx)
		}
		switch {
		case err == nil:
		case ctx.Err() == nil && dctx.Err() != nil:
			return nil // the deadline passed while waiting
		default:
			return fmt.Errorf("mqttbench: publisher %d: %w", p.index, err)
		}
	}
}

// sendN publishes n messages as fast as the window allows.
func (p *publisher) sendN(ctx context.Context, n int) error {
	for range n {
		if err := p.publish(ctx); err != nil {
			return fmt.Errorf("mqttbench: publisher %d: %w", p.index, err)
		}
	}
	return nil
}

// drain waits until every flow of the window has completed, by taking all
// identifiers back.
func (p *publisher) drain(ctx context.Context) error {
	for n := 0; n < cap(p.ids); n++ {
		select {
		case <-p.ids:
		case <-ctx.Done():
			return fmt.Errorf("mqttbench: publisher %d: %d messages unacknowledged: %w", p.index, cap(p.ids)-n, ctx.Err())
		}
	}
	return nil
}

// handle processes what the broker sends to a publisher: the
// acknowledgements of its QoS 1 and 2 flows.
func (p *publisher) handle(pk packet.Packet) error {
	switch a := pk.(type) {
	case *packet.Puback:
		if err := p.refused(a.ReasonCode, "PUBACK"); err != nil {
			return err
		}
		return p.complete(a.PacketID, 1, slotPublished, "PUBACK")
	case *packet.Pubrec:
		if err := p.refused(a.ReasonCode, "PUBREC"); err != nil {
			return err
		}
		if err := p.transition(a.PacketID, 2, slotPublished, slotReceived, "PUBREC"); err != nil {
			return err
		}
		return p.c.write(&packet.Pubrel{PacketID: a.PacketID})
	case *packet.Pubcomp:
		return p.complete(a.PacketID, 2, slotReceived, "PUBCOMP")
	case *packet.Pingresp:
		return nil
	case *packet.Disconnect:
		return fmt.Errorf("mqttbench: publisher %d: DISCONNECT from the broker: %v", p.index, a.ReasonCode)
	}
	return fmt.Errorf("mqttbench: publisher %d: unexpected %v from the broker", p.index, pk.Type())
}

//

// refused fails the run on an MQTT 5.0 acknowledgement with a failure
// reason code (0x80 and above): the message was not accepted, so counting
// it as sent would hide a loss. Success and No matching subscribers (0x10)
// pass; 3.1.1 acknowledgements always carry Success.
func (p *publisher) refused(rc packet.ReasonCode, what string) error {
	if rc < 0x80 {
		return nil
	}
	return fmt.Errorf("mqttbench: publisher %d: %s with reason code %v", p.index, what, rc)
}

// complete ends the flow of id and frees its slot.
func (p *publisher) complete(id uint16, qos byte, from uint32, what string) error {
	if err := p.transition(id, qos, from, slotFree, what); err != nil {
		return err
	}
	p.acked.Add(1)
	p.ids <- id // cannot block: the identifier came out of ids
	return nil
}

// transition moves slot id from one state to another, refusing an
// acknowledgement that does not fit the flow.
func (p *publisher) transition(id uint16, qos byte, from, to uint32, what string) error {
	if p.qos != qos || int(id) >= len(p.state) || !p.state[id].CompareAndSwap(from, to) {
		return fmt.Errorf("mqttbench: publisher %d (qos %d): unexpected %s for packet id %d", p.index, p.qos, what, id)
	}
	return nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// clientID names a benchmark client: prefix, run tag and index.
func clientID(prefix string, run uint32, i int) string {
	return "mqttbench-" + prefix + "-" + strconv.FormatUint(uint64(run), 16) + "-" + strconv.Itoa(i)
}
