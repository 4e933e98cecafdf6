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
	p       *packet.Publish
	from    *sess     // the publisher's session, for No Local; nil for others
	retain  bool      // the RETAIN flag to send
	now     time.Time // when the message entered sessions; see stamp
	enc     [3][]byte
	enc5    [3][]byte          // the MQTT 5.0 encodings, shared by MQTT 5.0 subscribers
	props   *packet.Properties // the properties MQTT 5.0 subscribers get (forwardProps)
	expires time.Time          // when the Message Expiry Interval runs out; zero: never
	held    *heldMsg           // the copy persistent sessions hold, once one takes it

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
	if p.Props != nil {
		d.props = forwardProps(p.Props)
		d.expires = expiresAt(d.props, time.Now())
	}
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
	d.p, d.from, d.enc, d.now, d.held = nil, nil, [3][]byte{}, time.Time{}, nil
	d.props, d.enc5, d.expires = nil, [3][]byte{}, time.Time{}
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

// encoded5 is encoded for MQTT 5.0 subscribers: with the message's
// properties (see forwardProps), shared by every MQTT 5.0 subscriber.
func (d *delivery) encoded5(qos byte) []byte {
	if d.enc5[qos] == nil {
		p := packet.Publish{Topic: d.p.Topic, Payload: d.p.Payload, QoS: qos, Retain: d.retain, Props: d.props}
		if qos > 0 {
			p.PacketID = 1
		}
		b, err := packet.V5.Append(nil, &p)
		if err != nil {
			return nil
		}
		d.enc5[qos] = b
	}
	return d.enc5[qos]
}

// encodedFor is the encoding for client c's protocol version.
func (d *delivery) encodedFor(c *client, qos byte) []byte {
	if c.v5 != nil {
		return d.encoded5(qos)
	}
	return d.encoded(qos)
}

// route handles an accepted PUBLISH: it updates the retained messages if
// the RETAIN flag is set, and delivers the message to every matching
// subscription with RETAIN 0 [MQTT-3.3.1-9], one copy per subscriber at
// the highest QoS of its matching subscriptions [MQTT-3.3.5-1]. Each
// subscriber gets the messages of one publisher in order [MQTT-4.6.0-6].
// It returns what the message still owes its publisher, which the caller
// must pass to [Broker.seal].
func (b *Broker) route(p *packet.Publish, from *sess) routed {
	var r routed
	if p.Retain {
		r.ret = b.retain(p)
	}
	d := newDelivery(p, false)
	d.from = from
	b.subs.Match(p.Topic, d.visit)
	d.merge()
	for _, t := range d.targets {
		t.s.deliver(d, t.qos)
	}
	r.held = d.held
	d.free()
	return r
}

// routed is what a routed message owes its publisher before the broker may
// acknowledge it: the copy persistent sessions hold (see heldStore), and
// the store write of its retained copy (see Broker.retain).
type routed struct {
	held *heldMsg
	ret  *storeWait
}

// pending reports whether the publisher must wait.
func (r routed) pending() bool { return r.held != nil || r.ret != nil }

// parties is how many callbacks seal waits for.
func (r routed) parties() int {
	n := 0
	if r.held != nil {
		n++
	}
	if r.ret != nil {
		n++
	}
	return n
}

// settle hands an accepted message to the hook, if there is one, and seals
// its routing (r from route). done, if not nil, is called once both are
// done, with the first error; nil means nobody waits (QoS 0, a will).
func (b *Broker) settle(origin string, p *packet.Publish, r routed, done func(error)) {
	hook := b.opts.Hook
	if done == nil {
		if hook != nil {
			hook.OnPublish(origin, p, ignoreDone)
		}
		b.seal(r, nil)
		return
	}
	if hook != nil {
		done = joinDone(2, done)
		hook.OnPublish(origin, p, done)
	}
	b.seal(r, done)
}

// seal ends the routing of a message (r from route): done, if not nil, is
// called once every persistent session that took it acknowledged it or it
// is on disk, and its retained copy is on disk — at once if r is not
// pending.
func (b *Broker) seal(r routed, done func(error)) {
	if done == nil {
		done = ignoreDone
	}
	if !r.pending() {
		done(nil)
		return
	}
	join := joinDone(r.parties(), done)
	if r.held != nil {
		b.held.seal(r.held, join)
	}
	if r.ret != nil {
		r.ret.then(join)
	}
}

// storeWait is a store write that a publisher's acknowledgement waits for.
type storeWait struct {
	mu    sync.Mutex
	fired bool
	err   error
	cb    func(error)
}

// fire records the write's outcome and calls the callback, if set.
func (w *storeWait) fire(err error) {
	w.mu.Lock()
	cb := w.cb
	w.fired, w.err = true, err
	w.mu.Unlock()
	if cb != nil {
		cb(err)
	}
}

// then calls cb once the write is done (at once if it is).
func (w *storeWait) then(cb func(error)) {
	w.mu.Lock()
	if !w.fired {
		w.cb = cb
		w.mu.Unlock()
		return
	}
	err := w.err
	w.mu.Unlock()
	cb(err)
}

// joinDone returns a done callback to hand to n parties that calls done
// once all of them called it, with the first error.
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
			out[i].qos = mergeOptions(out[i].qos, t.qos)
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
