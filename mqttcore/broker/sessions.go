package broker

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/session"
)

// sess is a client's session: its subscriptions and its delivery state
// (mqttcore/session). A clean session lives as long as its connection; a
// persistent one stays, offline, until a clean session replaces it.
type sess struct {
	b        *Broker
	id       string
	username string // the owner: who created it (see takeSession)
	clean    bool

	conn atomic.Pointer[client] // attached connection; written under mu
	// claim is the connection that took the session last (takeSession,
	// under Broker.mu), from before its attach: a newer connection with
	// the same id kicks it even while it is still attaching, when conn
	// is not set yet but its CONNACK may already be on the wire.
	claim atomic.Pointer[client]
	nsubs atomic.Int32 // len(subs), read without mu by the fan-out
	// subIDs maps filters to their MQTT 5.0 Subscription Identifiers, nil
	// when none has one; replaced (never changed) under mu, read without it.
	subIDs atomic.Pointer[map[string]uint32]
	dirty  atomic.Bool // changed since last persisted

	mu   sync.Mutex
	st   *session.Session
	subs map[string]byte // filter → granted QoS
	gone bool            // discarded: deliveries and new subscriptions are ignored
	will *delayedWill    // an MQTT 5.0 will waiting for its Will Delay Interval
	away time.Time       // when a persistent session went offline (restored: when loaded); zero while attached
	// expiry is how long a persistent session outlives its connection: 0
	// for Options.SessionExpiry, negative when it ends with it (see
	// Broker.sessionExpiry).
	expiry time.Duration

	allReadable atomic.Pointer[authConfig] // see refreshReadAll
	readAllAuth *authConfig                // the rules unreadable was counted under; guarded by mu
	unreadable  int                        // filters in subs CanReadAll does not vouch for
	rmu         sync.Mutex                 // guards the read-access cache; taken after mu
	rauth       *authConfig                // the rules rcache was filled under
	rcache      map[string]bool            // topic name → readable (see readable)
	rlast       string                     // the last name readable was asked about
	rlastOK     bool                       // ... and its answer
}

func newSess(b *Broker, id, username string, clean bool) *sess {
	return &sess{b: b, id: id, username: username, clean: clean, st: session.New(b.sessionOptions())}
}

// attach makes c the session's connection: CONNACK first, then what the
// session must re-send [MQTT-4.4.0-1], then queued messages, all before
// any new message can be delivered to c. A connection still attached (one
// that resumed the same session an instant earlier) is disconnected
// [MQTT-3.1.4-2].
func (s *sess) attach(c *client, present bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.conn.Load(); old != nil && old != c {
		old.kick(false)
	}
	c.s = s
	s.away = time.Time{}
	s.will = nil // a new connection before the Will Delay Interval passed [MQTT-3.1.3-9]
	c.enqueue(c.connackItem(present), false)
	s.st.SetOptions(s.b.windowFor(c)) // before Resume: the window is per connection
	now := time.Now()
	for _, o := range s.st.Resume(now) {
		s.sendLocked(c, o)
	}
	s.conn.Store(c)
	s.drainLocked(c, now)
}

// detach separates c from the session if it is still attached and reports
// whether it was.
func (s *sess) detach(c *client) bool {
	s.claim.CompareAndSwap(c, nil) // nothing to kick any more
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn.Load() != c {
		return false
	}
	s.conn.Store(nil)
	s.st.Disconnect()
	s.away = time.Now()
	return true
}

// end marks the session discarded and returns its filters, which the
// caller removes from the trie.
func (s *sess) end() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone = true
	if s.will != nil { // the session ends before the delay passed (3.1.3.2.2)
		s.will.due = time.Time{}
		s.b.willsOfEnded = append(s.b.willsOfEnded, s) // b.mu is held (discardLocked)
	}
	if s.b.held != nil {
		s.st.Refs(func(ref uint64) { s.b.held.release(s, ref) })
	}
	filters := make([]string, 0, len(s.subs))
	for f := range s.subs {
		filters = append(filters, f)
	}
	s.subs = nil
	s.nsubs.Store(0)
	return filters
}

// deliver implements subscriber: it sends one message at the lower of the
// subscription's and the message's QoS [MQTT-3.3.5-1], if the client may
// read its topic (see readable). QoS 0 goes straight to the connection's
// queue (or is dropped); QoS 1/2 goes through the session's inflight
// window and queue.
func (s *sess) deliver(d *delivery, subQoS byte) { s.deliverTo(d, subQoS, "") }

// deliverTo is deliver for the subscription shared (a shared
// subscription's "$share/..." string; "" for the session's own ones).
func (s *sess) deliverTo(d *delivery, subQoS byte, shared string) {
	if subQoS&subNoLocal != 0 && d.from == s {
		return // [MQTT-3.8.3-3]
	}
	if !s.readable(d.p.Topic) {
		return
	}
	qos := min(subQoS&subQoSMask, d.p.QoS)
	retain := d.retain || subQoS&subRAP != 0 && d.p.Retain // [MQTT-3.3.1-12] [MQTT-3.3.1-13]
	props := d.props
	if ids := s.subIDs.Load(); ids != nil {
		props = withSubIDs(props, *ids, d.p.Topic, shared) // its own encoding if it has some
	}
	if qos == 0 {
		if props != d.props {
			s.deliverOwn(d, retain, props)
			return
		}
		s.deliverQoS0(d, retain)
		return
	}
	// Only a client with a Maximum Packet Size needs the encoding now: the
	// argument is evaluated before tooLarge can look at the limit, and a
	// message that is queued rather than sent is encoded again when it
	// goes out, so this would encode every queued message twice.
	if c := s.conn.Load(); c != nil && c.v5 != nil && c.v5.maxOut > 0 && c.tooLarge(d.encoded5(qos)) {
		s.b.stats.dropTooLarge.Add(1) // [MQTT-3.1.2-25]
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return
	}
	m := session.Message{Topic: d.p.Topic, Payload: d.p.Payload, QoS: qos, Retain: retain, Props: props, Expires: d.expires, Shared: shared}
	if !s.clean && s.b.held != nil {
		m.Ref = s.b.held.hold(d, s, qos)
	}
	out, res := s.st.Publish(m, d.stamp())
	switch res {
	case session.Send:
		if c := s.conn.Load(); c != nil && props == d.props {
			c.enqueueEncoded(d, qos, out)
		} else if c != nil {
			s.sendLocked(c, out)
		}
	case session.Dropped:
		s.b.stats.dropQueueFull.Add(1)
		if m.Ref != 0 {
			s.b.held.release(s, m.Ref)
		}
	}
	// A held message is stored with its own records; the session's record
	// changes only for its drop count and QoS 2 packet identifiers.
	if !s.clean && (m.Ref == 0 || res == session.Dropped || res == session.Send && qos == 2) {
		s.markDirty()
	}
}

// overlapping implements subscriber: only a session with several filters
// can match one topic more than once.
func (s *sess) overlapping() bool { return s.nsubs.Load() > 1 }

// deliverQoS0 queues a QoS 0 message on the attached connection. Offline
// sessions do not queue QoS 0 messages.
func (s *sess) deliverQoS0(d *delivery, retain bool) {
	c := s.conn.Load()
	if c == nil {
		s.b.stats.dropOffline.Add(1)
		return
	}
	b := d.encodedFor(c, 0)
	if b == nil {
		s.b.log.Error("cannot encode publish", "client", s.id, "topic", d.p.Topic)
		return
	}
	if c.tooLarge(b) {
		s.b.stats.dropTooLarge.Add(1) // [MQTT-3.1.2-25]
		return
	}
	if !c.enqueue(outItem{b: b, set: retainBit(retain && !d.retain)}, true) {
		s.b.stats.dropSlow.Add(1)
	}
}

// onPuback handles a PUBACK from the client.
func (s *sess) onPuback(id uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.st.Ack(id); ok {
		s.changedLocked(m)
	}
}

// onPubrec handles a PUBREC: the message is now "PUBREL sent". PUBREL is
// sent even for an unknown identifier, so that a client whose state
// outlived ours can finish.
func (s *sess) onPubrec(id uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Received(id)
	if c := s.conn.Load(); c != nil {
		c.enqueue(ctlItem(packet.PUBREL, id), false)
	}
	if !s.clean {
		s.markDirty()
	}
}

// onPubcomp handles a PUBCOMP from the client.
func (s *sess) onPubcomp(id uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.st.Complete(id); ok {
		s.changedLocked(m)
	}
}

// receiveQoS2 records an inbound QoS 2 identifier; false means a duplicate
// that must not be delivered again [MQTT-4.3.3-2].
func (s *sess) receiveQoS2(id uint16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.clean {
		s.markDirty()
	}
	return s.st.ReceiveQoS2(id)
}

// releaseQoS2 forgets an inbound QoS 2 identifier (PUBREL received) and
// reports whether it was known.
func (s *sess) releaseQoS2(id uint16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := s.st.Release(id)
	if known && !s.clean {
		s.markDirty()
	}
	return known
}

// changedLocked runs after the session let go of m (acknowledged, or
// forgotten as unreadable), which freed a window slot: queued messages
// move into the window.
func (s *sess) changedLocked(m session.Message) {
	s.letGoLocked(m)
	if c := s.conn.Load(); c != nil {
		s.drainLocked(c, time.Now())
	}
}

// letGoLocked records that the session no longer holds m.
func (s *sess) letGoLocked(m session.Message) {
	if m.Ref != 0 {
		s.b.held.release(s, m.Ref)
	}
	if !s.clean && (m.Ref == 0 || m.QoS == 2) {
		s.markDirty()
	}
}

// drainLocked sends queued messages while the window has room.
func (s *sess) drainLocked(c *client, now time.Time) {
	for o, ok := s.st.Next(now); ok; o, ok = s.st.Next(now) {
		s.sendLocked(c, o)
	}
}

// markDirty schedules a persistent session for the next store write.
func (s *sess) markDirty() {
	if s.b.opts.Sessions != nil && s.dirty.CompareAndSwap(false, true) {
		s.b.persist.sessionChanged(s)
	}
}

// connackBytes is an accepting CONNACK.
func connackBytes(present bool) [4]byte {
	var sp byte
	if present {
		sp = 1
	}
	return [4]byte{byte(packet.CONNACK) << 4, 2, sp, byte(packet.Accepted)}
}
