package broker

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/session"
)

// outItem is one packet waiting in a connection's outbound queue.
type outItem struct {
	// b is an encoded packet, possibly shared by every subscriber of a
	// fan-out: it is never modified. nil for a small control packet.
	b []byte
	// id, if not 0, is the packet identifier to write into b, a QoS 1/2
	// PUBLISH encoded once for all subscribers.
	id uint16
	// set holds fixed header flags to set in a shared PUBLISH's copy: RETAIN
	// for an MQTT 5.0 Retain As Published subscription.
	set byte
	n   uint8   // length of ctl
	ctl [4]byte // a control packet of at most four bytes, when b is nil
}

// ctlItem returns an outbound item for a two-byte-identifier
// acknowledgement (PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK).
func ctlItem(t packet.Type, id uint16) outItem {
	var flags byte
	if t == packet.PUBREL {
		flags = 0b0010 // [MQTT-3.6.1-1]
	}
	return outItem{n: 4, ctl: [4]byte{byte(t)<<4 | flags, 2, byte(id >> 8), byte(id)}}
}

// errStuck is the reason a client whose queue overflows is disconnected.
var errStuck = errors.New("broker: client does not read its packets")

// enqueue appends it to the outbound queue and starts the writer if it is
// not running. A droppable item (a QoS 0 PUBLISH) is refused when the queue
// holds MaxOutbound packets; anything else is refused only when the client
// is closed, but a queue four times over the bound, plus the inflight
// window (whose PUBLISHes may all be queued at once after a burst),
// disconnects the client.
func (c *client) enqueue(it outItem, droppable bool) bool {
	c.outMu.Lock()
	if c.outClosed || c.final {
		c.outMu.Unlock()
		return false
	}
	if limit := c.b.opts.MaxOutbound; len(c.out) >= limit {
		if droppable {
			c.outMu.Unlock()
			return false
		}
		if len(c.out) >= 4*limit+c.b.opts.MaxInflight {
			c.outMu.Unlock()
			c.abort(errStuck)
			return false
		}
	}
	start := c.pushLocked(it)
	c.outMu.Unlock()
	if start {
		go c.writeLoop()
	}
	return true
}

// pushLocked appends it to the queue and reports whether the caller must
// start a writer goroutine (counted in wg already). outMu must be held.
func (c *client) pushLocked(it outItem) (start bool) {
	c.out = append(c.out, it)
	start = !c.writing
	c.writing = true
	if start {
		c.wg.Add(1)
	}
	return start
}

// waitRoom waits until the outbound queue has room for a droppable packet
// (fewer than MaxOutbound queued). It reports false when the connection is
// closed or WriteTimeout passed without room: a client that does not read.
func (c *client) waitRoom() bool {
	var timeout <-chan time.Time
	for {
		c.outMu.Lock()
		n, closed := len(c.out), c.outClosed
		c.outMu.Unlock()
		switch {
		case closed:
			return false
		case n < c.b.opts.MaxOutbound:
			return true
		case timeout == nil:
			t := time.NewTimer(c.b.opts.WriteTimeout)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-c.wake:
		case <-timeout:
			return false
		}
	}
}

// enqueueOutbound encodes and queues what a session asked to send: a
// PUBLISH (re-sent with DUP, or promoted from the queue) or a PUBREL. It
// reports false, queueing nothing, for a PUBLISH whose Message Expiry
// Interval has passed [MQTT-3.3.2-5] or that exceeds the client's Maximum
// Packet Size [MQTT-3.1.2-24]; an MQTT 5.0 client gets the message's
// properties, its expiry counted down [MQTT-3.3.2-6].
func (c *client) enqueueOutbound(o session.Outbound) bool {
	if o.Pubrel {
		c.enqueue(ctlItem(packet.PUBREL, o.PacketID), false)
		return true
	}
	props, expired := outboundProps(o, time.Now())
	if expired {
		c.b.stats.dropExpired.Add(1)
		return false
	}
	p := &packet.Publish{Topic: o.Topic, Payload: o.Payload, QoS: o.QoS, Retain: o.Retain, Dup: o.Dup, PacketID: o.PacketID}
	if c.v5 != nil {
		p.Props = props
	}
	b, err := c.version().Append(nil, p)
	if err != nil { // only a message at the protocol's size limit
		c.b.log.Error("cannot encode publish", "client", c.id, "topic", o.Topic, "err", err)
		return true
	}
	if c.tooLarge(b) {
		c.b.stats.dropTooLarge.Add(1) // [MQTT-3.1.2-25]
		return false
	}
	c.enqueue(outItem{b: b}, o.QoS == 0)
	return true
}

// aliases is the connection's outbound Topic Aliases, nil for none.
func (c *client) aliases() *aliasOut {
	if c.v5 == nil {
		return nil
	}
	return c.v5.out
}

// version is the wire format of the client's packets.
func (c *client) version() packet.Version {
	if c.v5 != nil {
		return packet.V5
	}
	return packet.V311
}

// enqueueEncoded queues a QoS 1/2 delivery that entered the session's
// window, using the encoding shared by all its subscribers. If it cannot
// be encoded at this QoS (see delivery.encoded), it is encoded alone.
func (c *client) enqueueEncoded(d *delivery, qos byte, o session.Outbound) {
	if b := d.encodedFor(c, qos); b != nil {
		c.enqueue(outItem{b: b, id: o.PacketID, set: retainBit(o.Retain && !d.retain)}, false)
		return
	}
	c.enqueueOutbound(o)
}

// enqueuePacket encodes and queues a packet of any size (SUBACK, CONNACK).
func (c *client) enqueuePacket(p packet.Packet) {
	b, err := c.version().Append(nil, p)
	if err != nil {
		c.b.log.Error("encode packet", "client", c.id, "err", err)
		return
	}
	c.enqueue(outItem{b: b}, false)
}

//

// Write buffer sizes.
const (
	writeBufSize = 8 << 10
	keepWriteBuf = 64 << 10 // larger buffers are not pooled
	keepOutQueue = 64       // larger idle queue arrays are released
)

var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, writeBufSize); return &b }}

// writeLoop drains the outbound queue: it takes every queued packet,
// encodes them into one buffer and writes it with one call, so packets
// that arrive while a write is in progress go out together. It exits when
// the queue is empty (the next enqueue starts a new one), so an idle
// connection has no writer goroutine and no write buffer.
func (c *client) writeLoop() {
	defer c.wg.Done()
	defer c.recoverPanic("writer")
	bp := writeBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= keepWriteBuf {
			*bp = (*bp)[:0]
			writeBufs.Put(bp)
		}
	}()
	var spare []outItem
	for {
		batch, ok := c.takeBatch(spare)
		if !ok {
			c.closeIfFinal()
			return
		}
		c.wakeReader() // the queue has room now
		var pubs uint64
		*bp, pubs = appendBatch((*bp)[:0], batch, c.aliases())
		clear(batch)
		spare = batch[:0]
		if err := c.write(*bp); err != nil {
			c.abort(err)
			return
		}
		c.b.stats.pktOut.Add(uint64(len(batch)))
		c.b.stats.pubOut.Add(pubs)
		c.b.stats.bytesOut.Add(uint64(len(*bp)))
	}
}

// takeBatch swaps the queue for spare and returns the queued items; false
// means the writer must exit (queue empty or connection closed).
func (c *client) takeBatch(spare []outItem) ([]outItem, bool) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	batch := c.out
	if len(batch) == 0 || c.outClosed {
		c.writing = false
		if c.outClosed || cap(c.out) > keepOutQueue {
			c.out = nil
		}
		return nil, false
	}
	c.out = spare
	return batch, true
}

// write writes b with the write deadline; a client that cannot take it in
// time is stuck.
func (c *client) write(b []byte) error {
	if err := c.conn.SetWriteDeadline(time.Now().Add(c.b.opts.WriteTimeout)); err != nil {
		return fmt.Errorf("broker: set write deadline: %w", err)
	}
	if _, err := c.conn.Write(b); err != nil {
		return fmt.Errorf("broker: write: %w", err)
	}
	return nil
}

// appendBatch appends the wire form of every item to buf and returns it
// with the number of PUBLISH packets. al, if not nil, gives PUBLISHes
// Topic Aliases (see alias.go).
func appendBatch(buf []byte, batch []outItem, al *aliasOut) ([]byte, uint64) {
	var pubs uint64
	for i := range batch {
		it := &batch[i]
		if it.b == nil {
			buf = append(buf, it.ctl[:it.n]...)
			continue
		}
		if al != nil && packet.Type(it.b[0]>>4) == packet.PUBLISH {
			var ok bool
			if buf, ok = al.appendPublish(buf, it); ok {
				pubs++
				continue
			}
		}
		start := len(buf)
		buf = append(buf, it.b...)
		if packet.Type(it.b[0]>>4) != packet.PUBLISH {
			continue
		}
		pubs++
		buf[start] |= it.set
		if it.id != 0 {
			off := start + publishIDOffset(it.b)
			buf[off], buf[off+1] = byte(it.id>>8), byte(it.id)
		}
	}
	return buf, pubs
}

// publishIDOffset returns the offset of the packet identifier in an encoded
// QoS 1/2 PUBLISH: after the fixed header and the topic name.
func publishIDOffset(b []byte) int {
	i := 1
	for b[i]&0x80 != 0 {
		i++
	}
	i++
	topicLen := int(b[i])<<8 | int(b[i+1])
	return i + 2 + topicLen
}
