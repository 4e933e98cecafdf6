package session

import (
	"encoding/binary"
	"fmt"
	"time"
)

// formatVersion is the first byte of a marshalled session. Version 1 had
// no references (flagRef); Unmarshal reads both.
const (
	formatVersion   = 2
	formatVersionV1 = 1
)

// Message flag bits in the marshalled form.
const (
	flagQoSMask = 0x03
	flagRetain  = 0x04
	flagRef     = 0x08 // only the Ref follows, as a uvarint (version 2, inflight only)
)

// MarshalBinary encodes the session's durable state: the next packet
// identifier, the inflight messages with their phase, the queue, the inbound
// QoS 2 identifiers and the drop count. Whether the session is online is
// not stored: [Unmarshal] returns an offline session. A message with a Ref
// is stored by the caller: an inflight one is encoded as its Ref only (to
// keep its identifier and phase), a queued one not at all (the caller hands
// it back to [Session.Restore]).
func (s *Session) MarshalBinary() ([]byte, error) {
	size, queued := 16+3*len(s.inbound), 0
	for i := range s.inflight {
		size += 16 + len(s.inflight[i].msg.Topic) + len(s.inflight[i].msg.Payload)
	}
	s.queue.each(func(e *entry) {
		if e.msg.Ref == 0 {
			size += 16 + len(e.msg.Topic) + len(e.msg.Payload)
			queued++
		}
	})

	b := make([]byte, 0, size)
	b = append(b, formatVersion)
	b = binary.BigEndian.AppendUint16(b, s.lastID)
	b = binary.AppendUvarint(b, s.dropped)
	b = binary.AppendUvarint(b, uint64(len(s.inflight)))
	for i := range s.inflight {
		e := &s.inflight[i]
		b = binary.BigEndian.AppendUint16(b, e.id)
		b = append(b, byte(e.phase))
		b = appendMessage(b, e.msg)
	}
	b = binary.AppendUvarint(b, uint64(queued))
	s.queue.each(func(e *entry) {
		if e.msg.Ref == 0 {
			b = appendMessage(b, e.msg)
		}
	})
	b = binary.AppendUvarint(b, uint64(len(s.inbound)))
	for id := range s.inbound {
		b = binary.BigEndian.AppendUint16(b, id)
	}
	return b, nil
}

// Unmarshal decodes a session written by [Session.MarshalBinary], applying
// options o. Every length is checked against the remaining input before
// anything is allocated; bad input returns an error wrapping
// [ErrMalformed]. Queued and inflight messages are timestamped now; the
// session is offline.
func Unmarshal(data []byte, o Options, now time.Time) (*Session, error) {
	d := decoder{b: data}
	if v := d.byte(); d.err == nil && v != formatVersion && v != formatVersionV1 {
		return nil, fmt.Errorf("%w: format version %d", ErrMalformed, v)
	}
	s := New(o)
	s.lastID = d.uint16()
	s.dropped = d.uvarint()
	s.inflight = d.inflight(now)
	if len(s.inflight) > smallWindow {
		s.used = new(idSet)
		for i := range s.inflight {
			s.used.add(s.inflight[i].id)
		}
	}
	for n := d.count(3); n > 0 && d.err == nil; n-- {
		m := d.message()
		if m.Ref != 0 {
			d.fail("reference in the queue")
		}
		s.push(entry{msg: m, at: now})
	}
	if n := d.count(2); n > 0 {
		s.inbound = make(map[uint16]struct{}, n)
		for ; n > 0 && d.err == nil; n-- {
			s.inbound[d.id()] = struct{}{}
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return s, nil
}

//

// Restore completes a session returned by [Unmarshal] with the messages
// its caller stored: lookup returns the message of an inflight entry's Ref
// (one it no longer has was acknowledged: the entry is dropped), and held
// are the messages with a Ref that the session held, oldest first; those
// not in flight are queued (timestamped now), behind what the record itself
// queued.
func (s *Session) Restore(lookup func(ref uint64) (Message, bool), held []Message, now time.Time) {
	inflight := make(map[uint64]bool)
	for i := 0; i < len(s.inflight); {
		e := &s.inflight[i]
		if e.msg.Ref == 0 {
			i++
			continue
		}
		m, ok := lookup(e.msg.Ref)
		if !ok || m.QoS != e.msg.QoS { // gone, or not the message the record meant
			s.remove(i)
			continue
		}
		e.msg = m
		inflight[m.Ref] = true
		i++
	}
	for _, m := range held {
		if !inflight[m.Ref] {
			s.push(entry{msg: m, at: now})
		}
	}
}

func appendMessage(b []byte, m Message) []byte {
	flags := m.QoS & flagQoSMask
	if m.Retain {
		flags |= flagRetain
	}
	if m.Ref != 0 {
		b = append(b, flags|flagRef)
		return binary.AppendUvarint(b, m.Ref)
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(m.Topic)))
	b = append(b, m.Topic...)
	b = binary.AppendUvarint(b, uint64(len(m.Payload)))
	return append(b, m.Payload...)
}

// decoder reads a marshalled session; after the first error every read
// returns a zero value and err keeps the first cause.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail("truncated: need %d bytes, have %d", n, len(d.b))
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) uint16() uint16 {
	if v := d.take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

// id reads a packet identifier, which is never 0.
func (d *decoder) id() uint16 {
	id := d.uint16()
	if d.err == nil && id == 0 {
		d.fail("packet identifier 0")
	}
	return id
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads an element count and checks that the remaining input can hold
// that many elements of at least minSize bytes each.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/minSize) {
		d.fail("count %d exceeds the remaining %d bytes", n, len(d.b))
		return 0
	}
	return int(n)
}

// length reads a byte length and checks it against the remaining input.
func (d *decoder) length() int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail("length %d exceeds the remaining %d bytes", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *decoder) message() Message {
	flags := d.byte()
	if d.err == nil && (flags&^(flagQoSMask|flagRetain|flagRef) != 0 || flags&flagQoSMask == 3) {
		d.fail("bad message flags %#x", flags)
	}
	if flags&flagRef != 0 {
		ref := d.uvarint()
		if d.err == nil && ref == 0 {
			d.fail("reference 0")
		}
		return Message{QoS: flags & flagQoSMask, Retain: flags&flagRetain != 0, Ref: ref}
	}
	topic := string(d.take(d.length()))
	var payload []byte
	if n := d.length(); n > 0 {
		payload = append([]byte(nil), d.take(n)...)
	}
	return Message{Topic: topic, Payload: payload, QoS: flags & flagQoSMask, Retain: flags&flagRetain != 0}
}

// inflight reads the inflight table: unique non-zero identifiers, QoS 1 or
// 2, and the "PUBREL sent" phase only for QoS 2.
func (d *decoder) inflight(now time.Time) []entry {
	n := d.count(6)
	if n == 0 {
		return nil
	}
	out := make([]entry, 0, n)
	seen := make(map[uint16]bool, n)
	for ; n > 0 && d.err == nil; n-- {
		e := entry{id: d.id(), phase: phase(d.byte()), at: now}
		e.msg = d.message()
		switch {
		case d.err != nil:
		case seen[e.id]:
			d.fail("duplicate inflight packet identifier %d", e.id)
		case e.msg.QoS == 0:
			d.fail("QoS 0 message in flight")
		case e.phase > awaitComp || (e.phase == awaitComp && e.msg.QoS != 2):
			d.fail("bad phase %d for QoS %d", e.phase, e.msg.QoS)
		}
		seen[e.id] = true
		out = append(out, e)
	}
	return out
}
