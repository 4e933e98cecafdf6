package broker

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/topic"
)

// Publish publishes a message in-process, as a client named origin would,
// without a network connection (give origin a name beginning with '$':
// network clients cannot take those, see [MaxClientIDLength]). It is
// retained if p.Retain says so,
// delivered to every matching subscription and handed to the PublishHook.
// For QoS 1 and 2 Publish returns only after the hook's done — after the
// bridge made the message durable — with the hook's error wrapped, or
// ctx's error if ctx ends first. Inline publishes may use $SYS topics
// (the Authorizer does not apply to them). p.Dup and p.PacketID are
// ignored; p.Props (MQTT 5.0 properties, e.g. from an MQTT 5.0 upstream)
// reach MQTT 5.0 subscribers, less a Topic Alias and Subscription
// Identifiers. The broker keeps p, which must not be modified afterwards. A
// topic over the broker's topic limits returns [ErrTopicLimit].
func (b *Broker) Publish(ctx context.Context, origin string, p *packet.Publish) error {
	if err := topic.ValidateName(p.Topic); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPublish, err)
	}
	if err := b.checkTopic(p.Topic); err != nil {
		return err
	}
	if p.QoS > 2 {
		return fmt.Errorf("%w: qos %d", ErrInvalidPublish, p.QoS)
	}
	if n := 4 + len(p.Topic) + len(p.Payload); n > packet.MaxRemainingLength {
		return fmt.Errorf("%w: %d bytes exceed the protocol's limit", ErrInvalidPublish, n)
	}
	msg := &packet.Publish{Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain, Props: forwardProps(p.Props)}
	b.stats.pubIn.Add(1)
	r := b.route(msg, nil)
	hook := b.opts.Hook
	switch {
	case hook == nil && !r.pending():
		return nil
	case msg.QoS == 0:
		b.settle(origin, msg, r, nil)
		return nil
	}
	done := make(chan error, 1)
	b.settle(origin, msg, r, func(err error) { done <- err })
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("broker: publish to %q not stored: %w", msg.Topic, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("broker: publish to %q: %w", msg.Topic, context.Cause(ctx))
	}
}

// Subscribe subscribes fn, in-process, to filter at QoS qos (messages
// arrive at the lower of qos and their own QoS). Retained messages that
// match are delivered before Subscribe returns, with Retain set. fn is
// called synchronously by the publishing goroutine, in order for each
// publisher: it must not block, and must not modify the message it gets.
// A panic in fn is recovered and logged. unsubscribe, safe to call more
// than once, stops the deliveries.
func (b *Broker) Subscribe(origin, filter string, qos byte, fn func(*packet.Publish)) (unsubscribe func(), err error) {
	switch {
	case fn == nil:
		return nil, fmt.Errorf("%w: nil callback", ErrInvalidSubscribe)
	case qos > 2:
		return nil, fmt.Errorf("%w: qos %d", ErrInvalidSubscribe, qos)
	}
	if err := topic.ValidateFilter(filter); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSubscribe, err)
	}
	if err := b.checkTopic(filter); err != nil {
		return nil, err
	}
	s := &inlineSub{b: b, origin: origin, fn: fn}
	b.subs.Subscribe(filter, s, qos)
	b.sendRetained(s, filter, qos)
	var once sync.Once
	return func() {
		once.Do(func() {
			s.closed.Store(true)
			b.subs.Unsubscribe(filter, s)
		})
	}, nil
}

//

// inlineSub is one in-process subscription.
type inlineSub struct {
	b      *Broker
	origin string
	fn     func(*packet.Publish)
	closed atomic.Bool
}

// deliver implements subscriber.
func (s *inlineSub) deliver(d *delivery, subQoS byte) {
	if s.closed.Load() {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.b.log.Error("panic in inline subscriber", "client", s.origin, "topic", d.p.Topic, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	s.fn(&packet.Publish{Topic: d.p.Topic, Payload: d.p.Payload, QoS: min(subQoS, d.p.QoS), Retain: d.retain})
}

// overlapping implements subscriber: an inline subscription has one filter.
func (s *inlineSub) overlapping() bool { return false }
