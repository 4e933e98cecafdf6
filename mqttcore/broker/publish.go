package broker

import (
	"github.com/edgegw/edgegw/mqttcore/packet"
)

// onPublish handles a PUBLISH from a client: QoS 2 duplicates are only
// acknowledged [MQTT-4.3.3-2]; others are checked (no $SYS, Authorizer),
// routed, handed to the hook and acknowledged — after the hook stored
// them, in the order received [MQTT-4.6.0-2] [MQTT-4.6.0-3]. A refused
// message is dropped and counted but still acknowledged, since MQTT 3.1.1
// cannot refuse a PUBLISH.
func (c *client) onPublish(p *packet.Publish) {
	if p.QoS == 2 && !c.s.receiveQoS2(p.PacketID) {
		c.ackReady(packet.PUBREC, p.PacketID, packet.Success)
		return
	}
	accepted := c.admitPublish(p)
	var r routed
	if accepted {
		r = c.b.route(p, c.s)
	}
	c.acknowledge(p, accepted, r)
}

// onPubrel handles a PUBREL: the QoS 2 identifier is released and PUBCOMP
// sent, also for an unknown identifier [MQTT-4.3.3-1].
func (c *client) onPubrel(id uint16) {
	c.s.releaseQoS2(id)
	c.ackReady(packet.PUBCOMP, id, packet.Success)
}

//

// admitPublish applies the $SYS rule and the Authorizer to a client's
// PUBLISH, counting what it drops.
func (c *client) admitPublish(p *packet.Publish) bool {
	if isSysTopic(p.Topic) {
		c.b.stats.dropSys.Add(1)
		c.b.log.Debug("publish to $SYS dropped", "client", c.id, "topic", p.Topic)
		return false
	}
	if !c.b.canPublish(c.id, c.username, p.Topic) {
		c.b.stats.dropDenied.Add(1)
		c.b.log.Debug("publish not authorized", "client", c.id, "topic", p.Topic)
		return false
	}
	return true
}

// acknowledge sends PUBACK (QoS 1) or PUBREC (QoS 2) for p: at once when
// the message was not accepted, or neither a hook nor r (see route) makes
// it wait; otherwise when the hook called done and r is sealed.
func (c *client) acknowledge(p *packet.Publish, accepted bool, r routed) {
	hook := c.b.opts.Hook
	ack := packet.PUBACK
	if p.QoS == 2 {
		ack = packet.PUBREC
	}
	switch {
	case !accepted || hook == nil && !r.pending():
		if p.QoS > 0 {
			c.ackReady(ack, p.PacketID, packet.Success)
		}
	case p.QoS == 0:
		c.b.settle(c.id, p, r, nil)
	default:
		seq := c.ackPending(ack, p.PacketID, len(p.Payload))
		c.b.settle(c.id, p, r, func(err error) { c.hookDone(seq, err) })
		c.waitStored()
	}
}

// ignoreDone is the done callback for messages that need no ack.
func ignoreDone(error) {}
