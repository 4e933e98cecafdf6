package session

import (
	"errors"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Defaults used when an Options field is zero or negative.
const (
	// DefaultMaxInflight is the default outbound inflight window.
	DefaultMaxInflight = 32
	// DefaultMaxQueued is the default bound of the queue behind the window.
	DefaultMaxQueued = 1000
	// MaxPacketID is the largest MQTT packet identifier; the window can
	// never be larger.
	MaxPacketID = 65535
)

// ErrMalformed is returned by [Unmarshal] for bytes that are not a session
// written by [Session.MarshalBinary] (truncated, corrupt, or a newer format).
var ErrMalformed = errors.New("session: malformed session data")

// Options bound a session's memory.
type Options struct {
	// MaxInflight is how many outbound QoS 1/2 messages may await their
	// acknowledgement at once (sent and not yet PUBACKed/PUBCOMPed).
	// Zero or negative means DefaultMaxInflight (32); values above 65535 are
	// capped at 65535.
	MaxInflight int
	// MaxQueued is how many messages may wait behind the inflight window,
	// or while the client is offline. A message that does not fit is dropped
	// and counted (see [Session.Dropped]). Zero or negative means
	// DefaultMaxQueued (1000).
	MaxQueued int
	// MaxQueuedBytes bounds the topic and payload bytes of the queued
	// messages, like MaxQueued bounds their number; one message is always
	// queued. Zero or negative means no bound.
	MaxQueuedBytes int
}

func (o Options) withDefaults() Options {
	if o.MaxInflight <= 0 {
		o.MaxInflight = DefaultMaxInflight
	}
	if o.MaxInflight > MaxPacketID {
		o.MaxInflight = MaxPacketID
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = DefaultMaxQueued
	}
	return o
}

// Message is an application message held by a session. The session keeps
// the Topic and Payload it is given without copying them: callers must not
// modify a Payload after handing it over.
type Message struct {
	Topic   string
	Payload []byte
	QoS     byte // 0, 1 or 2
	Retain  bool
	// Ref is the caller's reference to a durable copy of the message, 0
	// for none. A session does not store a message that has one: see
	// [Session.MarshalBinary] and [Session.Restore].
	Ref uint64
	// Props are the MQTT 5.0 message properties to forward, nil for none;
	// Expires is when the message's Message Expiry Interval runs out, zero
	// when it has none. The session keeps both but does not marshal them.
	Props   *packet.Properties
	Expires time.Time
	// Shared is the shared subscription ("$share/<name>/<filter>") the
	// message was delivered for, "" for none; not marshalled either.
	Shared string
}

// Outbound is a packet the session asks its owner to send.
type Outbound struct {
	Message
	// PacketID is the identifier to use; 0 for a QoS 0 message.
	PacketID uint16
	// Dup is set on a PUBLISH that is being re-sent [MQTT-3.3.1-1].
	Dup bool
	// Pubrel means "send PUBREL PacketID", not a PUBLISH: the PUBREC for
	// this QoS 2 message was received before the connection was lost.
	Pubrel bool
}

// Result says what [Session.Publish] did with a message.
type Result byte

// Results of [Session.Publish].
const (
	// Send: the message entered the inflight window (or is QoS 0 and the
	// client is online); the caller must send the returned Outbound now.
	Send Result = iota
	// Queued: the message waits behind the window or for the client to
	// reconnect; [Session.Next] or [Session.Resume] will return it.
	Queued
	// Dropped: the queue was full; the message was discarded and counted.
	Dropped
)

// String returns the result's name.
func (r Result) String() string {
	switch r {
	case Send:
		return "send"
	case Queued:
		return "queued"
	case Dropped:
		return "dropped"
	}
	return "unknown"
}

// phase is where an inflight outbound message stands.
type phase byte

const (
	awaitAck  phase = iota // PUBLISH sent; PUBACK (QoS 1) or PUBREC (QoS 2) awaited
	awaitComp              // PUBREC received, PUBREL sent; PUBCOMP awaited
)

// entry is one outbound message, in flight or queued.
type entry struct {
	msg   Message
	id    uint16
	phase phase
	at    time.Time // when it was sent (inflight) or queued
}

// Session is one client's delivery state. The zero value is not usable;
// create one with [New] or [Unmarshal].
type Session struct {
	opts     Options
	online   bool
	lastID   uint16
	inflight []entry // in send order
	used     *idSet  // identifiers in flight, kept only for large windows
	queue    fifo
	qbytes   int                 // topic and payload bytes in queue
	inbound  map[uint16]struct{} // QoS 2 ids received, PUBREL awaited
	dropped  uint64
}

// New returns an empty, offline session: until [Session.Resume] is called,
// every message is queued.
func New(o Options) *Session {
	return &Session{opts: o.withDefaults()}
}

// Options returns the session's options with defaults applied.
func (s *Session) Options() Options { return s.opts }

// SetOptions changes the bounds of an existing session (for example one
// restored from disk under a new configuration). Messages already queued
// or in flight are kept even if they exceed the new bounds.
func (s *Session) SetOptions(o Options) { s.opts = o.withDefaults() }

// Online reports whether the session is attached to a connection (between
// [Session.Resume] and [Session.Disconnect]).
func (s *Session) Online() bool { return s.online }

// Publish hands the session a message for its client. QoS 1 and 2 messages
// enter the inflight window when the client is online, the window has room
// and nothing is queued ahead of them; otherwise they are queued, or
// dropped when the queue is full. A QoS 0 message is sent directly when the
// client is online (it needs no identifier and is never in flight) and is
// queued otherwise.
func (s *Session) Publish(m Message, now time.Time) (Outbound, Result) {
	if s.online && s.queue.len() == 0 {
		if m.QoS == 0 {
			return Outbound{Message: m}, Send
		}
		if len(s.inflight) < s.opts.MaxInflight {
			if out, ok := s.send(m, now); ok {
				return out, Send
			}
		}
	}
	size := len(m.Topic) + len(m.Payload)
	if s.queue.len() >= s.opts.MaxQueued || s.opts.MaxQueuedBytes > 0 && s.queue.len() > 0 && s.qbytes+size > s.opts.MaxQueuedBytes {
		s.dropped++
		return Outbound{}, Dropped
	}
	s.push(entry{msg: m, at: now})
	return Outbound{}, Queued
}

// push queues e, counting its bytes.
func (s *Session) push(e entry) {
	s.queue.push(e)
	s.qbytes += len(e.msg.Topic) + len(e.msg.Payload)
}

// pop removes the oldest queued entry.
func (s *Session) pop() {
	e := s.queue.peek()
	s.qbytes -= len(e.msg.Topic) + len(e.msg.Payload)
	s.queue.pop()
}

// Next moves the oldest queued message into the window if the client is
// online and the window has room, and returns it for sending. Call it until
// it returns false after every acknowledgement and after Resume.
func (s *Session) Next(now time.Time) (Outbound, bool) {
	if !s.online || s.queue.len() == 0 {
		return Outbound{}, false
	}
	head := *s.queue.peek()
	if head.msg.QoS == 0 {
		s.pop()
		return Outbound{Message: head.msg}, true
	}
	if len(s.inflight) >= s.opts.MaxInflight {
		return Outbound{}, false
	}
	out, ok := s.send(head.msg, now)
	if ok {
		s.pop()
	}
	return out, ok
}

// Ack handles a PUBACK: it releases the QoS 1 message with that identifier
// and returns it, or reports false if there was none.
func (s *Session) Ack(id uint16) (Message, bool) {
	i := s.find(id)
	if i < 0 || s.inflight[i].msg.QoS != 1 {
		return Message{}, false
	}
	m := s.inflight[i].msg
	s.remove(i)
	return m, true
}

// Received handles a PUBREC: the QoS 2 message with that identifier moves
// to "PUBREL sent". It reports whether the caller must send PUBREL, which
// is also true for a repeated PUBREC of a message already in that state.
func (s *Session) Received(id uint16) bool {
	i := s.find(id)
	if i < 0 || s.inflight[i].msg.QoS != 2 {
		return false
	}
	s.inflight[i].phase = awaitComp
	return true
}

// Complete handles a PUBCOMP: it releases the QoS 2 message with that
// identifier if its PUBREL was sent and returns it, or reports false.
func (s *Session) Complete(id uint16) (Message, bool) {
	i := s.find(id)
	if i < 0 || s.inflight[i].phase != awaitComp {
		return Message{}, false
	}
	m := s.inflight[i].msg
	s.remove(i)
	return m, true
}

// Refs calls fn with the Ref of every message the session holds that has
// one, in flight first, then queued.
func (s *Session) Refs(fn func(ref uint64)) {
	for i := range s.inflight {
		if r := s.inflight[i].msg.Ref; r != 0 {
			fn(r)
		}
	}
	s.queue.each(func(e *entry) {
		if e.msg.Ref != 0 {
			fn(e.msg.Ref)
		}
	})
}

// Take removes and returns, in order, the messages fn picks among those
// the client has not acknowledged yet: queued ones and, while the session
// is offline, QoS 1/2 ones in flight whose PUBLISH was sent but whose
// PUBACK or PUBREC did not arrive. A QoS 2 message whose PUBREC arrived
// stays: its PUBREL must complete. The caller owns what Take returns
// (their Refs included).
func (s *Session) Take(fn func(m *Message) bool) []Message {
	var out []Message
	if !s.online {
		kept := s.inflight[:0]
		for _, e := range s.inflight {
			if e.phase == awaitAck && fn(&e.msg) {
				out = append(out, e.msg)
				if s.used != nil {
					s.used.del(e.id)
				}
				continue
			}
			kept = append(kept, e)
		}
		clear(s.inflight[len(kept):])
		s.inflight = kept
	}
	if s.queue.len() == 0 {
		return out
	}
	var q fifo
	s.queue.each(func(e *entry) {
		if fn(&e.msg) {
			out = append(out, e.msg)
			s.qbytes -= len(e.msg.Topic) + len(e.msg.Payload)
			return
		}
		q.push(*e)
	})
	s.queue = q
	return out
}

// Disconnect marks the session offline: from now on messages are queued.
// Inflight messages stay in flight until [Session.Resume] re-sends them.
func (s *Session) Disconnect() { s.online = false }

// Resume marks the session online and returns what must be re-sent first,
// in the original order [MQTT-4.4.0-1]: every unacknowledged PUBLISH with
// Dup set, and a PUBREL for every QoS 2 message whose PUBREC was received.
// Afterwards, call [Session.Next] to send what was queued.
func (s *Session) Resume(now time.Time) []Outbound {
	s.online = true
	if len(s.inflight) == 0 {
		return nil
	}
	out := make([]Outbound, len(s.inflight))
	for i := range s.inflight {
		e := &s.inflight[i]
		e.at = now
		out[i] = Outbound{Message: e.msg, PacketID: e.id, Dup: e.phase == awaitAck, Pubrel: e.phase == awaitComp}
	}
	return out
}

// ReceiveQoS2 records an inbound QoS 2 PUBLISH and reports whether it is
// new. A PUBLISH whose identifier is already recorded (a re-send whose
// PUBREL has not arrived) must not be delivered again [MQTT-4.3.3-2]; it is
// acknowledged with PUBREC all the same.
func (s *Session) ReceiveQoS2(id uint16) bool {
	if _, dup := s.inbound[id]; dup {
		return false
	}
	if s.inbound == nil {
		s.inbound = make(map[uint16]struct{})
	}
	s.inbound[id] = struct{}{}
	return true
}

// Release handles an inbound PUBREL (or forgets a QoS 2 message that could
// not be stored): the identifier may be used for a new message again. It
// reports whether the identifier was recorded. The caller answers PUBREL
// with PUBCOMP either way [MQTT-4.3.3-1].
func (s *Session) Release(id uint16) bool {
	if _, ok := s.inbound[id]; !ok {
		return false
	}
	delete(s.inbound, id)
	return true
}

// Stats describes a session's occupancy.
type Stats struct {
	Inflight      int           // outbound messages awaiting acknowledgement
	Queued        int           // messages waiting behind the window or offline
	QueuedBytes   int           // their topic and payload bytes
	InboundQoS2   int           // inbound QoS 2 identifiers awaiting PUBREL
	Dropped       uint64        // messages dropped because the queue was full
	OldestQueued  time.Duration // age of the oldest queued message, 0 if none
	OldestUnacked time.Duration // time since the oldest inflight message was (re)sent
}

// Stats reports the session's occupancy at time now.
func (s *Session) Stats(now time.Time) Stats {
	st := Stats{Inflight: len(s.inflight), Queued: s.queue.len(), QueuedBytes: s.qbytes, InboundQoS2: len(s.inbound), Dropped: s.dropped}
	if st.Queued > 0 {
		st.OldestQueued = nonNegative(now.Sub(s.queue.peek().at))
	}
	if st.Inflight > 0 {
		st.OldestUnacked = nonNegative(now.Sub(s.inflight[0].at))
	}
	return st
}

// Dropped returns how many messages were dropped because the queue was full.
func (s *Session) Dropped() uint64 { return s.dropped }

// Len returns the number of outbound messages held: in flight plus queued.
func (s *Session) Len() int { return len(s.inflight) + s.queue.len() }

//

// send allocates an identifier for m and puts it in flight.
func (s *Session) send(m Message, now time.Time) (Outbound, bool) {
	id, ok := s.allocID()
	if !ok {
		return Outbound{}, false
	}
	s.inflight = append(s.inflight, entry{msg: m, id: id, phase: awaitAck, at: now})
	s.track(id)
	return Outbound{Message: m, PacketID: id}, true
}

// allocID returns the next identifier not in flight: it counts up from the
// last one, wraps after 65535 and never returns 0.
func (s *Session) allocID() (uint16, bool) {
	for range MaxPacketID {
		s.lastID++
		if s.lastID == 0 {
			s.lastID = 1
		}
		if !s.inUse(s.lastID) {
			return s.lastID, true
		}
	}
	return 0, false
}

// find returns the index of the inflight entry with identifier id, or -1.
// The window is small and acknowledgements mostly come in order, so a scan
// from the front is cheaper than a map.
func (s *Session) find(id uint16) int {
	for i := range s.inflight {
		if s.inflight[i].id == id {
			return i
		}
	}
	return -1
}

// inUse reports whether identifier id is in flight.
func (s *Session) inUse(id uint16) bool {
	if s.used != nil {
		return s.used.has(id)
	}
	return s.find(id) >= 0
}

// track records a new inflight identifier. Windows of up to smallWindow
// messages are scanned; a larger one gets a bitmap so that allocation stays
// O(1), and drops it when it drains.
func (s *Session) track(id uint16) {
	switch {
	case s.used != nil:
		s.used.add(id)
	case len(s.inflight) > smallWindow:
		s.used = new(idSet)
		for i := range s.inflight {
			s.used.add(s.inflight[i].id)
		}
	}
}

// remove deletes inflight entry i, keeping the send order.
func (s *Session) remove(i int) {
	if s.used != nil {
		s.used.del(s.inflight[i].id)
	}
	copy(s.inflight[i:], s.inflight[i+1:])
	s.inflight[len(s.inflight)-1] = entry{}
	s.inflight = s.inflight[:len(s.inflight)-1]
	if len(s.inflight) == 0 {
		s.used = nil
		if cap(s.inflight) > 8 {
			s.inflight = nil // an idle session keeps no large window around
		}
	}
}

func nonNegative(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// smallWindow is the inflight size up to which identifiers are found by
// scanning the window.
const smallWindow = 64

// idSet is a bitmap of the 65536 packet identifiers (8 KiB).
type idSet [1024]uint64

func (b *idSet) has(id uint16) bool { return b[id>>6]&(1<<(id&63)) != 0 }
func (b *idSet) add(id uint16)      { b[id>>6] |= 1 << (id & 63) }
func (b *idSet) del(id uint16)      { b[id>>6] &^= 1 << (id & 63) }
