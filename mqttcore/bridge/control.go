package bridge

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

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
	for _, r := range *b.rules.Load() {
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
			b.logLimited(slog.LevelError, logSubRefused, "bridge: upstream refused subscription", "topic", filter)
			continue
		}
		b.log.Debug("bridge: subscribed upstream", "topic", filter, "qos", code)
	}
	if len(p.ReturnCodes) != len(subs) {
		b.log.Warn("bridge: suback does not match subscribe", "err", fmt.Sprintf("%d codes for %d filters", len(p.ReturnCodes), len(subs)))
	}
}
