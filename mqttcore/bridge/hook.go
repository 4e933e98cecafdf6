package bridge

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/topic"
	"github.com/edgegw/edgegw/offline"
)

// OnPublish is the local broker's publish hook: it is called for every
// PUBLISH the broker accepts, and the broker acknowledges the publisher only
// after done(nil).
//
// A message matching an out/both rule goes upstream at QoS min(its QoS, the
// rule's). At QoS 1 and 2 it is appended to the queue and sent upstream, and
// done(nil) is called once the upstream acknowledged it or it is on disk,
// whichever comes first (see planCommit: QoS 2, and QoS 1 when waiting
// cannot help, are written ahead; messages of Options.UnattendedOrigins are
// acknowledged at once); done(err) if the append failed, so the publisher is
// not acknowledged and sends it again. A
// message the queue refuses under the drop_new policy is acknowledged and
// counted as dropped. At QoS 0 it is sent directly when the uplink is up and
// dropped (and counted) otherwise. Other messages, and those whose origin is
// Options.Origin (they came from the upstream), complete at once.
//
// done is called exactly once, and for one origin in the order OnPublish was
// called. OnPublish does not block on the network or the disk. It does not
// modify p; a QoS 0 message's payload is referenced until it is written, so
// the caller must not reuse it.
func (b *Bridge) OnPublish(origin string, p *packet.Publish, done func(error)) {
	if origin == b.o.Origin {
		b.order.now(origin, done, nil)
		return
	}
	r, remote, ok := matchOut(*b.rules.Load(), p.Topic)
	if !ok {
		b.order.now(origin, done, nil)
		return
	}
	b.forward(origin, remote, min(p.QoS, r.QoS), p, done)
}

// OnPublishTo sends p upstream on the remote topic remoteTopic, as
// OnPublish sends a message an out rule maps there, at p's QoS: a reply to
// the Response Topic of a request from the upstream (MQTT 5), which no
// rule maps. A topic that is not a valid name is dropped and counted.
func (b *Bridge) OnPublishTo(origin, remoteTopic string, p *packet.Publish, done func(error)) {
	b.forward(origin, remoteTopic, p.QoS, p, done)
}

// forward sends p upstream on topic remote at QoS qos: see OnPublish.
func (b *Bridge) forward(origin, remote string, qos byte, p *packet.Publish, done func(error)) {
	if err := topic.ValidateName(remote); err != nil {
		b.stats.drop(DroppedInvalidTopic)
		b.logLimited(slog.LevelError, logMappedInvalid, "bridge: mapped topic invalid, message dropped", "topic", p.Topic, "err", err, "client", origin)
		b.order.now(origin, done, nil)
		return
	}
	if qos == 0 {
		b.forwardQoS0(remote, p)
		b.order.now(origin, done, nil)
		return
	}
	t := b.order.begin(origin, done)
	m := offline.Message{Topic: remote, Payload: p.Payload, QoS: qos, Retain: p.Retain, TTL: b.messageTTL(p)}
	if b.o.Protocol == packet.V5 && p.Props != nil {
		m.Props = encodeProps(p.Props)
	}
	plan := b.planCommit(origin, qos)
	b.o.Queue.AppendDeferred(m, plan.delay, func(_ uint64, err error) {
		switch {
		case errors.Is(err, offline.ErrFull):
			// Dropped by the drop_new policy; the queue counts it.
			err = nil
		case err != nil && plan.early:
			b.stats.storeErrors.Add(1)
			b.logLimited(slog.LevelError, logAppend, "bridge: queue append failed, message lost", "topic", p.Topic, "err", err, "client", origin)
		case err != nil:
			b.stats.storeErrors.Add(1)
			b.logLimited(slog.LevelError, logAppend, "bridge: queue append failed, not acknowledged", "topic", p.Topic, "err", err, "client", origin)
		}
		if !plan.early {
			b.order.finish(t, err)
		}
	})
	if plan.early {
		b.order.finish(t, nil)
	}
}

// forwardQoS0 sends a QoS 0 message straight to the upstream, or counts it
// dropped when the uplink is down or its write queue is full.
func (b *Bridge) forwardQoS0(remote string, p *packet.Publish) {
	c := b.cur.Load()
	if c == nil {
		b.stats.drop(DroppedOffline)
		return
	}
	fp := &packet.Publish{Retain: p.Retain, Topic: remote, Payload: p.Payload}
	if c.ver == packet.V5 {
		fp.Props = forwardProps(p.Props) // a copy
		if p.Props != nil && p.Props.MessageExpiry > 0 {
			if fp.Props == nil {
				fp.Props = &packet.Properties{}
			}
			fp.Props.MessageExpiry = p.Props.MessageExpiry
		}
		c.capPublish(fp)
		if c.tooLarge(fp) {
			c.dropTooLarge(0, offline.Message{Topic: remote, Payload: p.Payload}, false)
			return
		}
	}
	if !c.trySend(fp) {
		b.stats.drop(DroppedCongested)
		return
	}
	b.stats.forwarded.Add(1)
}

//

// sequencer calls done functions in the order they were registered for one
// origin, although their results arrive out of order (a QoS 0 message
// completes at once, a QoS 1 message before it only after an fsync). The
// broker relies on it to send PUBACKs in order [MQTT-4.6.0-2].
type sequencer struct {
	mu      sync.Mutex
	origins map[string]*originQueue
}

type originQueue struct {
	origin   string
	pending  []*ticket
	flushing bool // a goroutine is calling done functions
}

type ticket struct {
	q     *originQueue
	done  func(error)
	err   error
	ready bool
}

func (s *sequencer) init() { s.origins = make(map[string]*originQueue) }

// now completes done with err, after the origin's pending tickets.
func (s *sequencer) now(origin string, done func(error), err error) {
	s.mu.Lock()
	q := s.origins[origin]
	if q == nil { // nothing pending: the common case costs nothing
		s.mu.Unlock()
		done(err)
		return
	}
	q.pending = append(q.pending, &ticket{q: q, done: done, err: err, ready: true})
	s.flush(q)
}

// begin registers done, to be completed by finish.
func (s *sequencer) begin(origin string, done func(error)) *ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.origins[origin]
	if q == nil {
		q = &originQueue{origin: origin}
		s.origins[origin] = q
	}
	t := &ticket{q: q, done: done}
	q.pending = append(q.pending, t)
	return t
}

// finish completes t with err, once the tickets before it are complete.
func (s *sequencer) finish(t *ticket, err error) {
	s.mu.Lock()
	t.ready, t.err = true, err
	s.flush(t.q)
}

// flush calls the ready prefix of q's tickets, outside the lock, in order;
// one goroutine at a time does it for a queue. Called with s.mu held; it
// releases it.
func (s *sequencer) flush(q *originQueue) {
	if q.flushing {
		s.mu.Unlock()
		return
	}
	q.flushing = true
	for {
		n := 0
		for n < len(q.pending) && q.pending[n].ready {
			n++
		}
		if n == 0 {
			q.flushing = false
			if len(q.pending) == 0 {
				delete(s.origins, q.origin)
			}
			s.mu.Unlock()
			return
		}
		ready := make([]*ticket, n)
		copy(ready, q.pending)
		clear(q.pending[:n]) // popped from the front: amortised O(1)
		q.pending = q.pending[n:]
		s.mu.Unlock()
		for _, t := range ready {
			t.done(t.err)
		}
		s.mu.Lock()
	}
}
