package broker

import (
	"sync"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// ackQueue keeps a connection's acknowledgements (PUBACK, PUBREC, PUBCOMP)
// in the order of the packets they answer [MQTT-4.6.0-2] [MQTT-4.6.0-3]
// while some wait for the publish hook, which completes asynchronously.
// Without a hook, or with nothing pending, acknowledgements bypass it.
type ackQueue struct {
	mu       sync.Mutex
	slots    []ackSlot
	base     uint64 // sequence number of slots[0]
	unstored int    // payload bytes handed to the hook and not yet done
}

type ackSlot struct {
	typ   packet.Type
	id    uint16
	rc    packet.ReasonCode // MQTT 5.0 reason code; Success for 3.1.1
	state ackState
	size  int   // the message's payload bytes while the hook has it
	err   error // why the hook failed
}

type ackState byte

const (
	ackPending ackState = iota // the hook has not called done
	ackReady                   // may be sent
	ackFailed                  // the hook could not store the message
)

// ackReady sends an acknowledgement with reason code rc (MQTT 5.0;
// Success for 3.1.1) that waits for nothing, after those that wait for the
// hook.
func (c *client) ackReady(t packet.Type, id uint16, rc packet.ReasonCode) {
	a := &c.acks
	a.mu.Lock()
	if len(a.slots) == 0 {
		a.mu.Unlock()
		c.sendAck(t, id, rc)
		return
	}
	a.slots = append(a.slots, ackSlot{typ: t, id: id, rc: rc, state: ackReady})
	a.mu.Unlock()
}

// sendAck queues an acknowledgement. A successful PUBACK to an MQTT 5.0
// client gives back a place under the broker's Receive Maximum.
func (c *client) sendAck(t packet.Type, id uint16, rc packet.ReasonCode) {
	c.enqueue(ackItem(t, id, rc), false)
	if c.v5 != nil && t == packet.PUBACK && rc == packet.Success {
		c.v5.release()
	}
}

// ackPending reserves the place of an acknowledgement that waits for the
// hook for a message of size payload bytes and returns its sequence number
// for hookDone.
func (c *client) ackPending(t packet.Type, id uint16, size int) uint64 {
	a := &c.acks
	a.mu.Lock()
	defer a.mu.Unlock()
	a.slots = append(a.slots, ackSlot{typ: t, id: id, state: ackPending, size: size})
	a.unstored += size
	return a.base + uint64(len(a.slots)-1)
}

// waitStored is the per-client backpressure of durable appends: while the
// client's messages that the hook has not yet stored hold more than
// Options.MaxUnstored payload bytes, its reader waits here, so it stops
// reading and TCP pushes back on the client, instead of the broker and
// the hook buffering what it sends without bound. It returns when the
// hook caught up or the connection closed.
func (c *client) waitStored() {
	a := &c.acks
	for {
		a.mu.Lock()
		over := a.unstored > c.b.opts.MaxUnstored
		a.mu.Unlock()
		if !over || c.closed.Load() {
			return
		}
		<-c.wake
	}
}

// wakeReader wakes the reader if it waits in waitStored or waitRoom; they
// check their condition again.
func (c *client) wakeReader() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// hookDone is the hook's done for the acknowledgement seq. It sends every
// acknowledgement that is now at the head and ready. A message the hook
// could not store is not acknowledged: the connection is closed so the
// client re-sends it on reconnect, and a QoS 2 identifier is forgotten so
// the re-sent message is accepted again.
func (c *client) hookDone(seq uint64, err error) {
	a := &c.acks
	a.mu.Lock()
	i := seq - a.base
	if i >= uint64(len(a.slots)) {
		a.mu.Unlock()
		return
	}
	if a.slots[i].state == ackPending {
		a.unstored -= a.slots[i].size
		defer c.wakeReader()
	}
	a.slots[i].state = ackReady
	if err != nil {
		a.slots[i].state, a.slots[i].err = ackFailed, err
	}
	n := 0
	for n < len(a.slots) && a.slots[n].state == ackReady {
		c.sendAck(a.slots[n].typ, a.slots[n].id, a.slots[n].rc)
		n++
	}
	var failed *ackSlot
	if n < len(a.slots) && a.slots[n].state == ackFailed {
		f := a.slots[n]
		failed = &f
		n = len(a.slots) // nothing after it is acknowledged
	}
	rest := copy(a.slots, a.slots[n:])
	clear(a.slots[rest:])
	a.slots = a.slots[:rest]
	a.base += uint64(n)
	a.mu.Unlock()
	if failed != nil {
		c.notStored(failed)
	}
}

// notStored handles a message the hook did not store.
func (c *client) notStored(s *ackSlot) {
	c.b.log.Warn("publish not stored; disconnecting the client so it re-sends", "client", c.id, "err", s.err)
	if s.typ == packet.PUBREC {
		c.s.releaseQoS2(s.id)
	}
	c.abort(errNotStored)
}
