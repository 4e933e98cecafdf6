package broker

import (
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/topic"
)

// onSubscribe handles a SUBSCRIBE: each filter is validated and authorized
// (0x80 otherwise), granted at the requested QoS [MQTT-3.8.4-5] and
// replaces an identical one [MQTT-3.8.4-3]. The SUBACK lists one code per
// filter in order [MQTT-3.8.4-4]; then the retained messages of every
// granted filter follow, with RETAIN 1 [MQTT-3.3.1-6]. A persistent
// session's subscriptions are on disk before the SUBACK (see
// storeSessionNow).
func (c *client) onSubscribe(p *packet.Subscribe) {
	codes := make([]byte, len(p.Subscriptions))
	for i, sub := range p.Subscriptions {
		codes[i] = c.subscribe(sub)
	}
	c.b.storeSessionNow(c.s)
	c.enqueuePacket(&packet.Suback{PacketID: p.PacketID, ReturnCodes: codes})
	for i, sub := range p.Subscriptions {
		if codes[i] != packet.SubackFailure {
			c.b.sendRetained(c.s, sub.Filter, codes[i])
		}
	}
}

// onUnsubscribe handles an UNSUBSCRIBE: UNSUBACK is sent whether or not the
// filters were subscribed [MQTT-3.10.4-5]. A filter over the topic limits
// cannot be subscribed, so it is not looked up.
func (c *client) onUnsubscribe(p *packet.Unsubscribe) {
	for _, f := range p.Filters {
		if c.b.checkTopic(f) == nil {
			c.s.unsubscribe(f)
		}
	}
	c.b.storeSessionNow(c.s)
	c.enqueue(ctlItem(packet.UNSUBACK, p.PacketID), false)
}

//

// subscribe adds one subscription and returns its SUBACK return code.
func (c *client) subscribe(sub packet.Subscription) byte {
	if err := c.b.checkTopic(sub.Filter); err != nil {
		c.b.log.Debug("subscription filter over limits", "client", c.id, "err", err)
		return packet.SubackFailure
	}
	if err := topic.ValidateFilter(sub.Filter); err != nil {
		c.b.log.Debug("invalid subscription filter", "client", c.id, "topic", sub.Filter, "err", err)
		return packet.SubackFailure
	}
	if !c.b.canSubscribe(c.id, c.username, sub.Filter) {
		c.b.log.Debug("subscription not authorized", "client", c.id, "topic", sub.Filter)
		return packet.SubackFailure
	}
	c.s.subscribe(sub.Filter, sub.QoS)
	return sub.QoS
}

// subscribe records a subscription in the trie and the session. The trie
// comes first (its lock precedes s.mu); if the session was discarded in
// between, the subscription is taken back.
func (s *sess) subscribe(filter string, qos byte) {
	s.allReadable.Store(nil) // until the new filter is checked
	s.b.subs.Subscribe(filter, s, qos)
	s.mu.Lock()
	if s.gone {
		s.mu.Unlock()
		s.b.subs.Unsubscribe(filter, s)
		return
	}
	if s.subs == nil {
		s.subs = make(map[string]byte)
	}
	delta := 1
	if _, had := s.subs[filter]; had {
		delta = 0
	}
	s.subs[filter] = qos
	s.nsubs.Store(int32(len(s.subs)))
	s.filterChangedLocked(filter, delta)
	s.mu.Unlock()
	s.subscriptionsChanged()
}

// unsubscribe removes a subscription from the session and the trie.
func (s *sess) unsubscribe(filter string) {
	s.mu.Lock()
	_, had := s.subs[filter]
	if had {
		delete(s.subs, filter)
		s.nsubs.Store(int32(len(s.subs)))
		s.filterChangedLocked(filter, -1)
	}
	s.mu.Unlock()
	if had {
		s.b.subs.Unsubscribe(filter, s)
		s.subscriptionsChanged()
	}
}

// subscriptionsChanged asks for a prompt store write of a persistent
// session.
func (s *sess) subscriptionsChanged() {
	if !s.clean && s.b.opts.Sessions != nil {
		s.markDirty()
		s.b.persist.poke()
	}
}
