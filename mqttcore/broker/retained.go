package broker

import (
	"fmt"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// retain updates the retained message of p's topic: a PUBLISH with RETAIN
// 1 replaces it [MQTT-3.3.1-5] (a QoS 0 one too [MQTT-3.3.1-7]), and one
// with an empty payload removes it [MQTT-3.3.1-10] [MQTT-3.3.1-11]. A
// message that would take the store over Options.MaxRetained or
// MaxRetainedBytes is not retained (it is still delivered) and is counted
// (Stats.RetainedRefused). The change is persisted unless the topic is
// under $SYS: for a QoS 1/2 message at once, and the returned write, which
// its publisher's acknowledgement waits for, is done when it is on disk;
// for QoS 0 with the next Flush (nil is returned).
func (b *Broker) retain(p *packet.Publish) *storeWait {
	name := p.Topic
	m := &retainedMsg{p: p, expires: expiresAt(p.Props, time.Now())}
	if !b.setRetained(m) {
		b.stats.retainedRefused.Add(1)
		b.log.Debug("retained store full: message not retained", "topic", name)
		return nil
	}
	if b.opts.Retained == nil || isSysTopic(name) {
		return nil
	}
	if p.QoS > 0 {
		return b.storeRetainedNow(name)
	}
	if len(p.Payload) == 0 {
		m = nil
	}
	b.persist.retainedChanged(name, m)
	return nil
}

// retainedMsg is a retained message and, for an MQTT 5.0 message with a
// Message Expiry Interval, when it expires (monotonic clock; zero for
// never). An expired retained message is discarded and no longer
// delivered (3.3.2.3.3); a delivered one carries the time it has left
// [MQTT-3.3.2-6]. It is not modified once stored.
type retainedMsg struct {
	p       *packet.Publish
	expires time.Time
}

// at returns the message as delivered at now: with its Message Expiry
// Interval counted down (rounded up to whole seconds). ok is false when it
// has expired.
func (m *retainedMsg) at(now time.Time) (p *packet.Publish, ok bool) {
	if m.expires.IsZero() || m.p.Props == nil {
		return m.p, true
	}
	left := m.expires.Sub(now)
	if left <= 0 {
		return nil, false
	}
	q, props := *m.p, *m.p.Props
	props.MessageExpiry = uint32((left + time.Second - 1) / time.Second)
	q.Props = &props
	return &q, true
}

// expired reports whether m has expired at now.
func (m *retainedMsg) expired(now time.Time) bool {
	return !m.expires.IsZero() && !now.Before(m.expires)
}

// storeRetainedNow writes the retained message of topic name as it is now
// (or its absence), ahead of the next Flush. Writes are handed to the
// store under the persister's flushMu, like a Flush's, and each writes the
// current message, so that the store ends with the latest one whatever
// order concurrent publishers and Flushes run in.
func (b *Broker) storeRetainedNow(name string) *storeWait {
	p := &b.persist
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	b.retMu.Lock()
	cur, ok := b.retained.Get(name)
	b.retMu.Unlock()
	if ok && cur.expired(time.Now()) {
		ok = false // store its absence: it expired before it was written
	}
	if !ok {
		cur = nil
	}
	p.mu.Lock()
	delete(p.retained, name) // this write supersedes a pending one
	p.mu.Unlock()
	sw := &storeWait{}
	b.retainedWrite(name, cur).submit(func(err error) {
		if err != nil {
			err = fmt.Errorf("broker: store retained %s: %w", name, err)
			p.retainedChanged(name, cur) // the next Flush tries again
		}
		sw.fire(err)
	})
	return sw
}

// setRetained stores or (empty payload) deletes the retained message of
// m's topic within the limits and reports whether it did.
func (b *Broker) setRetained(m *retainedMsg) bool {
	p := m.p
	b.retMu.Lock()
	defer b.retMu.Unlock()
	old, had := b.retained.Get(p.Topic)
	size := 0
	if had {
		size = retainedSize(old.p)
	}
	if len(p.Payload) == 0 {
		b.retained.Delete(p.Topic)
		b.retBytes -= size
		return true
	}
	n := b.retained.Len()
	if !had && n >= b.opts.MaxRetained || b.retBytes-size+retainedSize(p) > b.opts.MaxRetainedBytes {
		return false
	}
	b.retained.Set(p.Topic, m)
	b.retBytes += retainedSize(p) - size
	return true
}

// retainedSize is what a retained message counts toward MaxRetainedBytes.
func retainedSize(p *packet.Publish) int { return len(p.Topic) + len(p.Payload) }

// sendRetained delivers the retained messages matching filter to a new
// subscription, with RETAIN 1 [MQTT-3.3.1-8] and at most the granted QoS.
// QoS 0 messages to a client are paced by its outbound queue instead of
// being dropped when they outnumber it: the client's reader, which runs
// this, waits for the writer (see client.waitRoom), as long as the client
// reads.
func (b *Broker) sendRetained(s subscriber, filter string, qos byte) {
	var msgs []*retainedMsg
	b.retained.MatchFilter(filter, func(_ string, m *retainedMsg) { msgs = append(msgs, m) })
	pace := retainedPacer(s)
	for _, m := range msgs {
		p, ok := m.at(time.Now())
		if !ok {
			b.dropRetained(m)
			continue
		}
		if pace != nil && min(qos, p.QoS) == 0 && !pace.waitRoom() {
			pace = nil // it does not read: the rest may be dropped
		}
		d := newDelivery(p, true)
		if !m.expires.IsZero() {
			d.expires = m.expires // to the nanosecond, not the rounded-up seconds
		}
		s.deliver(d, qos)
		b.seal(routed{held: d.held}, nil)
		d.free()
	}
}

// expireRetained discards the retained messages that expired at now and
// returns how many.
func (b *Broker) expireRetained(now time.Time) int {
	var gone []*retainedMsg
	b.retained.MatchFilter("#", func(_ string, m *retainedMsg) {
		if m.expired(now) {
			gone = append(gone, m)
		}
	})
	n := 0
	for _, m := range gone {
		if b.dropRetained(m) {
			n++
		}
	}
	return n
}

// dropRetained discards the expired retained message m, unless another
// message replaced it meanwhile, and reports whether it did. The deletion
// is persisted with the next Flush.
func (b *Broker) dropRetained(m *retainedMsg) bool {
	name := m.p.Topic
	b.retMu.Lock()
	cur, ok := b.retained.Get(name)
	if ok && cur == m {
		b.retained.Delete(name)
		b.retBytes -= retainedSize(m.p)
	}
	b.retMu.Unlock()
	if !ok || cur != m {
		return false
	}
	b.stats.retainedExpired.Add(1)
	if b.opts.Retained != nil && !isSysTopic(name) {
		b.persist.retainedChanged(name, nil)
	}
	return true
}

// retainedPacer returns the connection whose queue paces retained
// messages for s, or nil.
func retainedPacer(s subscriber) *client {
	if ss, ok := s.(*sess); ok {
		return ss.conn.Load()
	}
	return nil
}
