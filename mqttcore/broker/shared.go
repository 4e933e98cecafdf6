package broker

import (
	"sync"
	"sync/atomic"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/session"
	"github.com/edgegw/edgegw/mqttcore/topic"
)

// Shared subscriptions (MQTT 5.0 section 4.8.2). A subscription to
// "$share/<name>/<filter>" joins the session to the shared subscription
// of that exact string; each message matching filter goes to one of its
// members, not to all. 3.1.1 clients may use them too, as with Mosquitto:
// the filter means the same in both protocols.
//
// In the subscription trie a shared subscription is one subscriber, a
// *shareGroup, under its filter: the fan-out visits it like any session
// and it picks one member, so normal subscriptions pay nothing for it.
// The session keeps the subscription under its full "$share/..." string
// (in sess.subs and in its stored record), with its own granted QoS and
// options.
//
// Choosing a member: round robin over the members whose client is
// connected; when none is, the next member in turn (a persistent session
// queues the message for its client). A member gets a message at the
// lower of its granted QoS and the message's.
//
// A member that loses its connection: the QoS 1/2 messages the group gave
// it that its client has not acknowledged (queued, or sent without PUBACK
// or PUBREC) go to another member whose client is connected, at once,
// rather than waiting for the client to come back (4.8.2 allows both). A
// QoS 2 message whose PUBREC arrived stays, to finish with PUBREL. When no
// other member is connected the messages stay with the session: a
// persistent session sends them when its client returns, a session that
// ends with its connection loses them. A message handed on loses the
// subscription identifiers of the first member, and is not handed on again
// from a restored session (the tag is not stored). For QoS 2 this trades
// exactly-once for delivery: a client that got the PUBLISH but whose PUBREC
// was lost with the connection may have it too.
//
// Retained messages are not sent when a shared subscription is made
// (3.3.1.3, 4.8.2); No Local on a shared subscription is a protocol error
// the codec refuses [MQTT-3.8.3-4]. An invalid share name is refused with
// 0x8F Topic Filter Invalid, and the ACL decides on the filter part.

// shares is the broker's table of shared subscriptions.
type shares struct {
	mu     sync.Mutex // serializes membership changes; taken before the trie's lock
	groups sync.Map   // "$share/<name>/<filter>" → *shareGroup, read without mu
	// extra is the members beyond the first of every group: the trie
	// counts a group once, Stats.Subscriptions every member.
	extra atomic.Int64
}

// shareGroup is one shared subscription: a subscriber of the trie.
type shareGroup struct {
	key     string // "$share/<name>/<filter>"
	members atomic.Pointer[[]shareMember]
	next    atomic.Uint32 // round robin position
}

// shareMember is one session of a shared subscription, with its granted
// QoS and options (see subOptions).
type shareMember struct {
	s    *sess
	opts byte
}

var _ subscriber = (*shareGroup)(nil)

// deliver implements subscriber: one member gets the message.
func (g *shareGroup) deliver(d *delivery, _ byte) {
	if m, ok := g.pick(nil, false); ok {
		m.s.deliverTo(d, m.opts, g.key)
	}
}

// overlapping implements subscriber: a group appears once per filter.
func (g *shareGroup) overlapping() bool { return false }

// addSub adds session s's subscription to filter (full, "$share/..."
// included) to the trie, or s to its shared subscription.
func (b *Broker) addSub(filter string, s *sess, opts byte) {
	if !topic.IsShared(filter) {
		b.subs.Subscribe(filter, s, opts)
		return
	}
	b.shares.mu.Lock()
	defer b.shares.mu.Unlock()
	g := b.shareGroup(filter)
	ms := g.list()
	for i := range ms {
		if ms[i].s == s {
			ms = append([]shareMember(nil), ms...)
			ms[i].opts = opts
			g.members.Store(&ms)
			return
		}
	}
	if len(ms) > 0 {
		b.shares.extra.Add(1)
	}
	ms = append(append(make([]shareMember, 0, len(ms)+1), ms...), shareMember{s, opts})
	g.members.Store(&ms)
}

// removeSub undoes addSub.
func (b *Broker) removeSub(filter string, s *sess) {
	if !topic.IsShared(filter) {
		b.subs.Unsubscribe(filter, s)
		return
	}
	b.shares.mu.Lock()
	defer b.shares.mu.Unlock()
	v, ok := b.shares.groups.Load(filter)
	if !ok {
		return
	}
	g := v.(*shareGroup)
	old := g.list()
	ms := make([]shareMember, 0, len(old))
	for _, m := range old {
		if m.s != s {
			ms = append(ms, m)
		}
	}
	if len(ms) == len(old) {
		return
	}
	if len(ms) > 0 {
		b.shares.extra.Add(-1)
		g.members.Store(&ms)
		return
	}
	g.members.Store(nil)
	b.shares.groups.Delete(filter)
	b.subs.Unsubscribe(topic.FilterOf(filter), g)
}

// handOn gives the shared messages that session s, whose client just
// lost its connection, has not had acknowledged to other members of their
// shared subscriptions, when they have a connected one.
func (b *Broker) handOn(s *sess) {
	s.mu.Lock()
	if s.conn.Load() != nil || s.gone {
		s.mu.Unlock()
		return
	}
	taken := s.st.Take(func(m *session.Message) bool {
		if m.Shared == "" || m.QoS == 0 {
			return false
		}
		g := b.group(m.Shared)
		return g != nil && g.hasConnected(s)
	})
	for _, m := range taken {
		s.letGoLocked(m)
	}
	s.mu.Unlock()
	for _, m := range taken {
		b.stats.sharedHandedOn.Add(1)
		b.redeliver(m, s)
	}
}

//

// shareGroup returns the group of key, creating it and subscribing it to
// the trie. b.shares.mu must be held.
func (b *Broker) shareGroup(key string) *shareGroup {
	if v, ok := b.shares.groups.Load(key); ok {
		return v.(*shareGroup)
	}
	g := &shareGroup{key: key}
	b.shares.groups.Store(key, g)
	b.subs.Subscribe(topic.FilterOf(key), g, 2)
	return g
}

// group returns the group of key, or nil.
func (b *Broker) group(key string) *shareGroup {
	if v, ok := b.shares.groups.Load(key); ok {
		return v.(*shareGroup)
	}
	return nil
}

// list returns the members; the slice must not be changed.
func (g *shareGroup) list() []shareMember {
	if p := g.members.Load(); p != nil {
		return *p
	}
	return nil
}

// pick returns the member that gets the next message: the next one in
// turn whose client is connected, other than skip; without one, the next
// one in turn other than skip, unless connected is set.
func (g *shareGroup) pick(skip *sess, connected bool) (shareMember, bool) {
	ms := g.list()
	n := len(ms)
	if n == 0 {
		return shareMember{}, false
	}
	start := int(g.next.Load() % uint32(n))
	fallback := -1
	for i := range n {
		j := (start + i) % n
		if ms[j].s == skip {
			continue
		}
		if ms[j].s.conn.Load() != nil {
			g.next.Store(uint32(j + 1))
			return ms[j], true
		}
		if fallback < 0 {
			fallback = j
		}
	}
	if fallback < 0 || connected {
		return shareMember{}, false
	}
	g.next.Store(uint32(fallback + 1))
	return ms[fallback], true
}

// hasConnected reports whether a member other than skip has a connected
// client.
func (g *shareGroup) hasConnected(skip *sess) bool {
	for _, m := range g.list() {
		if m.s != skip && m.s.conn.Load() != nil {
			return true
		}
	}
	return false
}

// redeliver hands m, taken from session from, to another connected member
// of its shared subscription, as a new message.
func (b *Broker) redeliver(m session.Message, from *sess) {
	g := b.group(m.Shared)
	var mem shareMember
	ok := g != nil
	if ok {
		mem, ok = g.pick(from, true)
	}
	if !ok {
		b.stats.dropOffline.Add(1)
		return
	}
	props := m.Props
	if props != nil && props.SubscriptionIDs != nil { // the first member's
		q := *props
		q.SubscriptionIDs = nil
		props = &q
	}
	d := deliveries.Get().(*delivery)
	d.p = &packet.Publish{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain, Props: props}
	d.props, d.expires = props, m.Expires
	mem.s.deliverTo(d, mem.opts, g.key)
	r := routed{held: d.held}
	d.free()
	b.seal(r, nil)
}
