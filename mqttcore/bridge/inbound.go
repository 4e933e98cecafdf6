package bridge

import (
	"fmt"
	"sync"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/topic"
)

// inbound is the worker that publishes the upstream's messages locally, one
// at a time and in order, and acknowledges each only after Local.Publish
// returned: PUBACK for QoS 1, PUBREC for QoS 2 (then PUBCOMP on PUBREL).
func (c *conn) inbound() error {
	for {
		select {
		case <-c.ctx.Done():
			return nil
		case p := <-c.in:
			switch p := p.(type) {
			case *packet.Publish:
				c.onPublish(p)
			case *packet.Pubrel:
				c.b.inq2.release(p.PacketID)
				c.send(&packet.Pubcomp{PacketID: p.PacketID})
			}
		}
	}
}

// onPublish handles one PUBLISH from the upstream.
func (c *conn) onPublish(p *packet.Publish) {
	b := c.b
	if p.QoS == 2 && b.inq2.pending(p.PacketID) {
		// Re-sent before our PUBREC arrived: already delivered [MQTT-4.3.3-2].
		c.send(&packet.Pubrec{PacketID: p.PacketID})
		return
	}
	if !c.deliver(p) {
		return // shutting down: no ack, the upstream sends it again
	}
	switch p.QoS {
	case 1:
		c.send(&packet.Puback{PacketID: p.PacketID})
	case 2:
		b.inq2.hold(p.PacketID)
		c.send(&packet.Pubrec{PacketID: p.PacketID})
	}
}

// deliver publishes p locally under its mapped topic. It returns false only
// when the connection is ending, so the message must not be acknowledged.
// A message without a matching rule, or one the local broker refuses, is
// dropped and counted: sending it again would not change that.
func (c *conn) deliver(p *packet.Publish) bool {
	b := c.b
	_, local, ok := matchIn(b.o.Rules, p.Topic)
	if !ok || topic.ValidateName(local) != nil {
		b.stats.drop(DroppedNoRule)
		b.log.Warn("bridge: message from upstream matches no in rule, dropped", "topic", p.Topic)
		return true
	}
	lp := &packet.Publish{QoS: p.QoS, Retain: p.Retain, Topic: local, Payload: p.Payload}
	if err := b.o.Local.Publish(c.ctx, b.o.Origin, lp); err != nil {
		if c.ctx.Err() != nil {
			return false
		}
		b.stats.drop(DroppedLocalError)
		b.log.Error("bridge: local publish failed, dropped", "topic", local, "err", err)
		return true
	}
	b.stats.received.Add(1)
	return true
}

// inboundQoS2 holds the identifiers of QoS 2 messages from the upstream that
// were delivered locally and whose PUBREL has not arrived. It outlives
// connections (the upstream resumes the flow after a reconnection), not the
// process.
type inboundQoS2 struct {
	mu  sync.Mutex
	ids map[uint16]struct{}
}

func (q *inboundQoS2) init() { q.ids = make(map[uint16]struct{}) }

func (q *inboundQoS2) pending(id uint16) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.ids[id]
	return ok
}

func (q *inboundQoS2) hold(id uint16) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ids[id] = struct{}{}
}

func (q *inboundQoS2) release(id uint16) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.ids, id)
}

// ctrlIDs hands out the packet identifiers above pidSpace, for SUBSCRIBE and
// the status messages, and lets a caller wait for a PUBACK or SUBACK.
type ctrlIDs struct {
	mu      sync.Mutex
	next    uint16
	waiters map[uint16]chan struct{}
	subs    map[uint16][]packet.Subscription
}

func (c *ctrlIDs) init() {
	c.next = ctrlFirst
	c.waiters = make(map[uint16]chan struct{})
	c.subs = make(map[uint16][]packet.Subscription)
}

// id returns the next identifier and a channel closed when it is acknowledged.
func (c *ctrlIDs) id() (uint16, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.next
	if c.next == ctrlLast {
		c.next = ctrlFirst
	} else {
		c.next++
	}
	if old, ok := c.waiters[id]; ok { // never acknowledged: give up on it
		close(old)
	}
	delete(c.subs, id)
	ch := make(chan struct{})
	c.waiters[id] = ch
	return id, ch
}

// subscribeID returns an identifier for a SUBSCRIBE of subs, remembered
// until takeSubs.
func (c *ctrlIDs) subscribeID(subs []packet.Subscription) uint16 {
	id, _ := c.id()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs[id] = subs
	return id
}

// takeSubs returns and forgets the subscriptions sent with id.
func (c *ctrlIDs) takeSubs(id uint16) []packet.Subscription {
	c.mu.Lock()
	defer c.mu.Unlock()
	subs := c.subs[id]
	delete(c.subs, id)
	return subs
}

// done marks id acknowledged.
func (c *ctrlIDs) done(id uint16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.waiters[id]; ok {
		close(ch)
		delete(c.waiters, id)
	}
}

// subscribe sends one SUBSCRIBE for the upstream side of every in/both rule.
func (c *conn) subscribe() {
	b := c.b
	var subs []packet.Subscription
	for _, r := range b.o.Rules {
		if r.Direction&In != 0 {
			subs = append(subs, packet.Subscription{Filter: r.remoteFilter(), QoS: r.QoS})
		}
	}
	if len(subs) == 0 {
		return
	}
	c.send(&packet.Subscribe{PacketID: b.ctrl.subscribeID(subs), Subscriptions: subs})
}

// onSuback logs the filters the upstream refused.
func (b *Bridge) onSuback(p *packet.Suback) {
	subs := b.ctrl.takeSubs(p.PacketID)
	b.ctrl.done(p.PacketID)
	for i, code := range p.ReturnCodes {
		filter := "?"
		if i < len(subs) {
			filter = subs[i].Filter
		}
		if code == packet.SubackFailure {
			b.stats.subscribeFailures.Add(1)
			b.log.Error("bridge: upstream refused subscription", "topic", filter)
			continue
		}
		b.log.Debug("bridge: subscribed upstream", "topic", filter, "qos", code)
	}
	if len(p.ReturnCodes) != len(subs) {
		b.log.Warn("bridge: suback does not match subscribe", "err", fmt.Sprintf("%d codes for %d filters", len(p.ReturnCodes), len(subs)))
	}
}
