package broker

import (
	"strings"
	"sync"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// subscriber is what the subscription trie maps filters to: a client
// session or an inline subscription.
type subscriber interface {
	// deliver hands over one message matched by a subscription with QoS
	// subQoS. It must not block on the network.
	deliver(d *delivery, subQoS byte)
	// overlapping reports whether the subscriber may hold several filters
	// matching one topic, so that the fan-out must merge its matches.
	overlapping() bool
}

// delivery is one message on its way to subscribers. It encodes the
// PUBLISH at most once per QoS, and the encoding is shared by every
// subscriber's outbound queue (packet identifiers are written in at write
// time).
type delivery struct {
	p      *packet.Publish
	retain bool      // the RETAIN flag to send
	now    time.Time // when the message entered sessions; see stamp
	enc    [3][]byte
	held   *heldMsg // the copy persistent sessions hold, once one takes it

	targets []target
	seen    map[subscriber]int
	visit   func(subscriber, byte)
}

// target is one matching subscription.
type target struct {
	s   subscriber
	qos byte
}

var deliveries = sync.Pool{New: func() any {
	d := new(delivery)
	d.visit = func(s subscriber, qos byte) { d.targets = append(d.targets, target{s, qos}) }
	return d
}}

// newDelivery returns a delivery of p with the RETAIN flag retain.
func newDelivery(p *packet.Publish, retain bool) *delivery {
	d := deliveries.Get().(*delivery)
	d.p, d.retain = p, retain
	return d
}

// stamp returns the time the message is handed to sessions, read once and
// only for QoS 1/2 deliveries.
func (d *delivery) stamp() time.Time {
	if d.now.IsZero() {
		d.now = time.Now()
	}
	return d.now
}

// free returns d to the pool; the encodings stay with the queues that
// reference them.
func (d *delivery) free() {
	clear(d.targets)
	if cap(d.targets) > 1024 {
		d.targets = nil
	}
	d.targets = d.targets[:0]
	d.p, d.enc, d.now, d.held = nil, [3][]byte{}, time.Time{}, nil
	deliveries.Put(d)
}

// encoded returns the PUBLISH encoded for qos, with packet identifier 1
// as a placeholder for QoS 1/2 and DUP 0, or nil if it cannot be encoded:
// a QoS 0 message of the protocol's maximum size has no room for the
// identifier a QoS 1 copy needs.
func (d *delivery) encoded(qos byte) []byte {
	if d.enc[qos] == nil {
		p := packet.Publish{Topic: d.p.Topic, Payload: d.p.Payload, QoS: qos, Retain: d.retain}
		if qos > 0 {
			p.PacketID = 1
		}
		b, err := packet.Append(nil, &p)
		if err != nil {
			return nil
		}
		d.enc[qos] = b
	}
	return d.enc[qos]
}

// route handles an accepted PUBLISH: it updates the retained messages if
// the RETAIN flag is set, and delivers the message to every matching
// subscription with RETAIN 0 [MQTT-3.3.1-9], one copy per subscriber at
// the highest QoS of its matching subscriptions [MQTT-3.3.5-1]. Each
// subscriber gets the messages of one publisher in order [MQTT-4.6.0-6].
// It returns the message persistent sessions hold, if any took it, which
// the caller must pass to [Broker.seal].
func (b *Broker) route(p *packet.Publish) *heldMsg {
	if p.Retain {
		b.retain(p)
	}
	d := newDelivery(p, false)
	b.subs.Match(p.Topic, d.visit)
	d.merge()
	for _, t := range d.targets {
		t.s.deliver(d, t.qos)
	}
	m := d.held
	d.free()
	return m
}

// seal ends the routing of a message that persistent sessions hold (m
// from route, may be nil): done, if not nil, is called once each of them
// acknowledged it or it is on disk — at once for m nil. See heldStore.
func (b *Broker) seal(m *heldMsg, done func(error)) {
	if m == nil {
		if done != nil {
			done(nil)
		}
		return
	}
	b.held.seal(m, done)
}

// joinDone returns a done callback to hand to n parties (1 or 2) that
// calls done once all of them called it, with the first error.
func joinDone(n int, done func(error)) func(error) {
	if n <= 1 {
		return done
	}
	var mu sync.Mutex
	var first error
	return func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		n--
		last, err := n == 0, first
		mu.Unlock()
		if last {
			done(err)
		}
	}
}

// merge reduces the targets to one per subscriber, with the highest QoS.
// Only subscribers with overlapping filters are looked up.
func (d *delivery) merge() {
	if !d.anyOverlapping() {
		return
	}
	if d.seen == nil {
		d.seen = make(map[subscriber]int)
	}
	out := d.targets[:0]
	for _, t := range d.targets {
		if !t.s.overlapping() {
			out = append(out, t)
			continue
		}
		if i, dup := d.seen[t.s]; dup {
			out[i].qos = max(out[i].qos, t.qos)
			continue
		}
		d.seen[t.s] = len(out)
		out = append(out, t)
	}
	clear(d.targets[len(out):])
	d.targets = out
	clear(d.seen)
}

func (d *delivery) anyOverlapping() bool {
	if len(d.targets) < 2 {
		return false
	}
	for _, t := range d.targets {
		if t.s.overlapping() {
			return true
		}
	}
	return false
}

// isSysTopic reports whether name is under $SYS, where clients may not
// publish.
func isSysTopic(name string) bool {
	return name == "$SYS" || strings.HasPrefix(name, "$SYS/")
}
