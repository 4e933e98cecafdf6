package broker

import (
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/topic"
)

// onSubscribe handles a SUBSCRIBE: each filter is validated and authorized
// (0x80 otherwise), granted at the requested QoS [MQTT-3.8.4-5] and
// replaces an identical one [MQTT-3.8.4-3]. The SUBACK lists one code per
// filter in order [MQTT-3.8.4-4]; then the retained messages of every
// granted filter follow, with RETAIN 1 [MQTT-3.3.1-6], except for shared
// subscriptions (see shared.go). A persistent
// session's subscriptions are on disk before the SUBACK (see
// storeSessionNow).
func (c *client) onSubscribe(p *packet.Subscribe) {
	var subID uint32 // at most one; the codec refuses more and 0 (3.8.2.1.2)
	if p.Props != nil && len(p.Props.SubscriptionIDs) > 0 {
		subID = p.Props.SubscriptionIDs[0]
	}
	codes := make([]byte, len(p.Subscriptions))
	existed := make([]bool, len(p.Subscriptions))
	for i, sub := range p.Subscriptions {
		codes[i], existed[i] = c.subscribe(sub)
		if codes[i] < packet.SubackFailure && c.v5 != nil {
			c.s.setSubID(sub.Filter, subID) // replaces, or removes, the old one [MQTT-3.8.4-3]
		}
	}
	c.b.storeSessionNow(c.s)
	c.enqueuePacket(&packet.Suback{PacketID: p.PacketID, ReturnCodes: codes})
	for i, sub := range p.Subscriptions {
		if codes[i] < packet.SubackFailure && sendsRetained(sub, existed[i]) && !topic.IsShared(sub.Filter) {
			c.b.sendRetained(c.s, sub.Filter, codes[i])
		}
	}
}

// sendsRetained applies an MQTT 5.0 subscription's Retain Handling: 0
// sends the retained messages [MQTT-3.3.1-9], 1 only for a new
// subscription [MQTT-3.3.1-10], 2 never [MQTT-3.3.1-11]. 3.1.1
// subscriptions have 0.
func sendsRetained(sub packet.Subscription, existed bool) bool {
	return sub.RetainHandling == 0 || sub.RetainHandling == 1 && !existed
}

// onUnsubscribe handles an UNSUBSCRIBE: UNSUBACK is sent whether or not the
// filters were subscribed [MQTT-3.10.4-5]. A filter over the topic limits
// cannot be subscribed, so it is not looked up.
func (c *client) onUnsubscribe(p *packet.Unsubscribe) {
	var codes []byte
	if c.v5 != nil {
		codes = make([]byte, len(p.Filters))
	}
	for i, f := range p.Filters {
		had := c.b.checkTopic(f) == nil && c.s.unsubscribe(f)
		if had && c.v5 != nil {
			c.s.setSubID(f, 0)
		}
		if codes != nil && !had {
			codes[i] = byte(packet.NoSubscriptionExisted) // [MQTT-3.11.3-1]
		}
	}
	c.b.storeSessionNow(c.s)
	if codes != nil {
		c.enqueuePacket(&packet.Unsuback{PacketID: p.PacketID, ReasonCodes: codes})
		return
	}
	c.enqueue(ctlItem(packet.UNSUBACK, p.PacketID), false)
}

//

// subscribe adds one subscription and returns its SUBACK return code (an
// MQTT 5.0 reason code for an MQTT 5.0 client), and whether it replaced
// one with the same filter.
func (c *client) subscribe(sub packet.Subscription) (code byte, existed bool) {
	if err := c.b.checkTopic(sub.Filter); err != nil {
		c.b.log.Debug("subscription filter over limits", "client", c.id, "err", err)
		return c.subackFailure(packet.TopicFilterInvalid), false
	}
	_, filter, shared, err := topic.ParseShared(sub.Filter) // see shared.go
	if !shared {
		filter, err = sub.Filter, topic.ValidateFilter(sub.Filter)
	}
	if err != nil {
		c.b.log.Debug("invalid subscription filter", "client", c.id, "topic", sub.Filter, "err", err)
		return c.subackFailure(packet.TopicFilterInvalid), false
	}
	if !c.b.canSubscribe(c.id, c.username, filter) { // a shared one's filter part
		c.b.log.Debug("subscription not authorized", "client", c.id, "topic", sub.Filter)
		return c.subackFailure(packet.NotAuthorized), false
	}
	existed = c.s.subscribe(sub.Filter, subOptions(sub.QoS, sub))
	return sub.QoS, existed
}

// subackFailure is the SUBACK code of a refused subscription: 0x80 in
// 3.1.1, rc in 5.0 [MQTT-3.9.3-1].
func (c *client) subackFailure(rc packet.ReasonCode) byte {
	if c.v5 != nil {
		return byte(rc)
	}
	return packet.SubackFailure
}

// subscribe records a subscription in the trie and the session, with its
// granted QoS and options (see subOptions), and reports whether it replaced
// one. The trie comes first (its lock precedes s.mu); if the session was
// discarded in between, the subscription is taken back.
func (s *sess) subscribe(filter string, qos byte) bool {
	s.allReadable.Store(nil) // until the new filter is checked
	s.b.addSub(filter, s, qos)
	s.mu.Lock()
	if s.gone {
		s.mu.Unlock()
		s.b.removeSub(filter, s)
		return false
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
	return delta == 0
}

// unsubscribe removes a subscription from the session and the trie and
// reports whether there was one.
func (s *sess) unsubscribe(filter string) bool {
	s.mu.Lock()
	_, had := s.subs[filter]
	if had {
		delete(s.subs, filter)
		s.nsubs.Store(int32(len(s.subs)))
		s.filterChangedLocked(filter, -1)
	}
	s.mu.Unlock()
	if had {
		s.b.removeSub(filter, s)
		s.subscriptionsChanged()
	}
	return had
}

// subscriptionsChanged schedules a persistent session's record for a
// store write; SUBSCRIBE and UNSUBSCRIBE make it at once (storeSessionNow).
func (s *sess) subscriptionsChanged() {
	if !s.clean {
		s.markDirty()
	}
}
