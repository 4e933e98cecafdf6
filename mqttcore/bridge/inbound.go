package bridge

import (
	"log/slog"
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
	_, local, ok := matchIn(*b.rules.Load(), p.Topic)
	if !ok || topic.ValidateName(local) != nil {
		b.stats.drop(DroppedNoRule)
		b.logLimited(slog.LevelWarn, logNoRule, "bridge: message from upstream matches no in rule, dropped", "topic", p.Topic)
		return true
	}
	lp := &packet.Publish{QoS: p.QoS, Retain: p.Retain, Topic: local, Payload: p.Payload}
	if p.Props != nil { // MQTT 5.0
		lp.Props = forwardProps(p.Props)
		if p.Props.MessageExpiry > 0 { // what is left of it, the upstream counted [MQTT-3.3.2-6]
			if lp.Props == nil {
				lp.Props = &packet.Properties{}
			}
			lp.Props.MessageExpiry = p.Props.MessageExpiry
		}
	}
	if err := b.o.Local.Publish(c.ctx, b.o.Origin, lp); err != nil {
		if c.ctx.Err() != nil {
			return false
		}
		b.stats.drop(DroppedLocalError)
		b.logLimited(slog.LevelError, logLocalPublish, "bridge: local publish failed, dropped", "topic", local, "err", err)
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
