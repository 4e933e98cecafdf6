package offline

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// Message is what a producer stores in a queue.
type Message struct {
	// Topic is the MQTT topic; the offline package does not interpret it.
	Topic string
	// Payload is copied on Append; the caller may reuse its buffer afterwards.
	Payload []byte
	// QoS is 0, 1 or 2.
	QoS byte
	// Retain is the MQTT retain flag.
	Retain bool
	// TTL is how long the message may wait in the queue; 0 means forever.
	// Age is measured with the boot-relative clock (see the package doc),
	// never with the wall clock.
	TTL time.Duration
	// Props are the message's MQTT 5.0 properties in the producer's own
	// encoding (the bridge's), stored and returned as they are; nil for
	// none. They count against QueueOptions.MaxBytes.
	Props []byte
}

// Entry is a stored message as Read returns it. Its fields are copies that the
// caller owns.
type Entry struct {
	// Seq is the queue's sequence number for this entry, increasing with
	// append order. Ack, MarkReceived and Quarantine take it.
	Seq uint64
	Message
	// Enqueued is the wall-clock time of the append (informational: it may
	// be in 1970 on a board without RTC; expiry never uses it).
	Enqueued time.Time
	// Received is true once MarkReceived persisted that the upstream
	// answered the QoS 2 PUBLISH with PUBREC: send PUBREL, not PUBLISH.
	Received bool
	// Age is how long the entry had been queued when Read returned it, by
	// the boot-relative clock (see the package doc): a sender carries
	// TTL - Age to a receiver that expires messages itself.
	Age time.Duration
}

// Encoding of a stored entry (version 1), all integers varint-encoded:
//
//	version   byte  (entryVersion)
//	flags     byte  (bit 0 retain, bit 1 received, bits 2-3 QoS, bit 4 props, others 0)
//	bootSeq   uvarint  boot counter of the DB when appended (see bootRecord)
//	bootStamp varint   CLOCK_BOOTTIME at append, ns
//	wall      varint   wall clock at append, Unix ns
//	ttl       uvarint  ns, 0 = none
//	topicLen  uvarint, then the topic bytes
//	propsLen  uvarint, then the props bytes: only when flag bit 4 is set
//	payload   the remaining bytes
//
// The props block was added after the first release without a new version:
// an entry without properties is encoded exactly as before, so old entries
// decode unchanged and an older gateway still reads every entry that has
// none (one with properties it quarantines as an unknown flag).
const (
	entryVersion = 1

	flagRetain   = 1 << 0
	flagReceived = 1 << 1
	flagQoSShift = 2
	flagQoSMask  = 3 << flagQoSShift
	flagProps    = 1 << 4
	flagsKnown   = flagRetain | flagReceived | flagQoSMask | flagProps

	flagsOffset = 1 // index of the flags byte, rewritten by MarkReceived
)

// record is the decoded form of a stored entry.
type record struct {
	msg       Message
	received  bool
	bootSeq   uint64
	bootStamp time.Duration
	wall      time.Time
}

// size is what the entry counts against QueueOptions.MaxBytes.
func (r *record) size() uint64 {
	return uint64(len(r.msg.Topic) + len(r.msg.Props) + len(r.msg.Payload))
}

// entry converts r to the caller-facing Entry.
func (r *record) entry(seq uint64) Entry {
	return Entry{Seq: seq, Message: r.msg, Enqueued: r.wall, Received: r.received}
}

// encodeRecord appends the version-1 encoding of r to dst.
func encodeRecord(dst []byte, r *record) []byte {
	flags := byte(r.msg.QoS&3) << flagQoSShift
	if r.msg.Retain {
		flags |= flagRetain
	}
	if r.received {
		flags |= flagReceived
	}
	if len(r.msg.Props) > 0 {
		flags |= flagProps
	}
	dst = slices.Grow(dst, 2+6*binary.MaxVarintLen64+len(r.msg.Topic)+len(r.msg.Props)+len(r.msg.Payload))
	dst = append(dst, entryVersion, flags)
	dst = binary.AppendUvarint(dst, r.bootSeq)
	dst = binary.AppendVarint(dst, int64(r.bootStamp))
	dst = binary.AppendVarint(dst, r.wall.UnixNano())
	dst = binary.AppendUvarint(dst, uint64(r.msg.TTL))
	dst = binary.AppendUvarint(dst, uint64(len(r.msg.Topic)))
	dst = append(dst, r.msg.Topic...)
	if flags&flagProps != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(r.msg.Props)))
		dst = append(dst, r.msg.Props...)
	}
	return append(dst, r.msg.Payload...)
}

// decodeRecord decodes b (which it does not retain: topic and payload are
// copied). It never panics and never allocates more than len(b).
func decodeRecord(b []byte) (record, error) {
	var r record
	d := decoder{b: b}
	if v := d.byte(); v != entryVersion {
		return r, fmt.Errorf("%w: entry version %d", errMalformed, v)
	}
	flags := d.byte()
	if flags&^flagsKnown != 0 {
		return r, fmt.Errorf("%w: entry flags %#x", errMalformed, flags)
	}
	r.msg.QoS = (flags & flagQoSMask) >> flagQoSShift
	if r.msg.QoS > 2 {
		return r, fmt.Errorf("%w: entry QoS %d", errMalformed, r.msg.QoS)
	}
	r.msg.Retain = flags&flagRetain != 0
	r.received = flags&flagReceived != 0
	r.bootSeq = d.uvarint()
	r.bootStamp = time.Duration(d.varint())
	r.wall = time.Unix(0, d.varint())
	ttl := d.uvarint()
	if ttl > 1<<63-1 {
		return r, fmt.Errorf("%w: entry TTL %d", errMalformed, ttl)
	}
	r.msg.TTL = time.Duration(ttl)
	r.msg.Topic = string(d.bytes(d.uvarint()))
	if flags&flagProps != 0 {
		props := d.bytes(d.uvarint())
		if d.err == nil && len(props) == 0 {
			return r, fmt.Errorf("%w: empty entry props", errMalformed) // encodeRecord sets the flag only for some
		}
		r.msg.Props = append([]byte(nil), props...)
	}
	if d.err != nil {
		return r, d.err
	}
	r.msg.Payload = append([]byte(nil), d.b[d.off:]...)
	return r, nil
}

// entrySize returns the MaxBytes size of an encoded entry without copying it.
// A malformed entry counts with its full length.
func entrySize(b []byte) uint64 {
	if len(b) < 2 {
		return uint64(len(b))
	}
	d := decoder{b: b, off: 2} // after version and flags
	d.uvarint()                // bootSeq
	d.varint()                 // bootStamp
	d.varint()                 // wall
	d.uvarint()                // ttl
	topic := d.bytes(d.uvarint())
	if b[1]&flagProps != 0 {
		n := d.uvarint()
		props := d.bytes(n)
		if d.err != nil {
			return uint64(len(b))
		}
		return uint64(len(topic)+len(props)) + uint64(len(b)-d.off)
	}
	if d.err != nil {
		return uint64(len(b))
	}
	return uint64(len(topic)) + uint64(len(b)-d.off)
}

// decoder reads varints and byte strings with bounds checks; after the first
// error every read returns zero and err keeps that first error.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated %s at offset %d", errMalformed, what, d.off)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || d.off >= len(d.b) {
		d.fail("byte")
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.off += n
	return v
}

// bytes returns the next n bytes (not copied), checking n against what is
// left before using it.
func (d *decoder) bytes(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("bytes")
		return nil
	}
	d.off += int(n)
	return d.b[d.off-int(n) : d.off]
}
