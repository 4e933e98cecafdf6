package packet

import (
	"fmt"
	"strings"
)

// Append encodes p in the MQTT 3.1.1 wire format, as [V311.Append] does; a
// CONNECT is encoded in the format of its own protocol level. It refuses
// (returning dst unchanged and an error wrapping [ErrMalformed],
// [ErrProtocol] or [ErrTooLarge]) every packet that [Decode] would refuse,
// so what Append produces a conforming peer accepts. The one exception is
// [Connect.ProtocolLevel], which may be any value so that tests can provoke
// a CONNACK 0x01.
func Append(dst []byte, p Packet) ([]byte, error) { return V311.Append(dst, p) }

// Append encodes p, fixed header included, in the wire format of version v,
// appends it to dst and returns the extended slice. MQTT 5.0 fields (the
// properties, reason codes and subscription options) are not encoded below
// [V5], so a packet built for an MQTT 5.0 peer can be sent to a 3.1.1 one;
// a CONNECT is always encoded in the format of its own protocol level.
// Append refuses, with the errors of [Append], every packet that v's
// decoder would refuse.
func (v Version) Append(dst []byte, p Packet) ([]byte, error) {
	e, ok := p.(encoder)
	if !ok {
		return dst, fmt.Errorf("packet: cannot encode %T: %w", p, ErrProtocol)
	}
	n, err := e.size(v)
	if err != nil {
		return dst, err
	}
	if n > MaxRemainingLength {
		return dst, fmt.Errorf("packet: %s: body of %d bytes exceeds %d: %w", typeName(e.Type()), n, MaxRemainingLength, ErrTooLarge)
	}
	dst = grow(dst, 1+remainingSize(n)+n)
	dst = append(dst, byte(e.Type())<<4|e.flags())
	dst = appendRemaining(dst, n)
	return e.appendBody(v, dst), nil
}

// Decode decodes the body of one control packet whose fixed header is h in
// the MQTT 3.1.1 wire format, as [V311.Decode] does. len(body) must equal
// h.Remaining. The returned packet copies what it keeps: body may be reused
// as soon as Decode returns.
//
// A CONNECT with a known protocol name but an unsupported level returns the
// partly decoded *Connect (name and level only) together with the error
// [RefusedProtocolVersion], so a server can answer CONNACK 0x01
// [MQTT-3.1.2-2]. Every other error wraps [ErrMalformed] or [ErrProtocol] and
// comes with a nil packet.
func Decode(h FixedHeader, body []byte) (Packet, error) { return V311.Decode(h, body) }

// String returns the packet type's name as the standard spells it, e.g.
// "PUBLISH".
func (t Type) String() string {
	if t >= CONNECT && t <= AUTH {
		return typeNames[t]
	}
	return fmt.Sprintf("reserved(%d)", byte(t))
}

//

// decode is Version.Decode with an optional topic cache for PUBLISH. The
// Reader, which has checked the fixed header and read exactly the body,
// passes checked to skip those checks.
func decode(v Version, h FixedHeader, body []byte, topics *topicCache, checked bool) (Packet, error) {
	if !checked {
		if err := checkHeader(v, h); err != nil {
			return nil, err
		}
		if len(body) != h.Remaining {
			return nil, malformed(typeName(h.Type), "body of %d bytes for a remaining length of %d", len(body), h.Remaining)
		}
	}
	switch h.Type {
	case CONNECT:
		return decodeConnect(v, body)
	case CONNACK:
		return decodeConnack(v, body)
	case PUBLISH:
		return decodePublish(v, h.Flags, body, topics)
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		return decodeAck(v, h.Type, body)
	case SUBSCRIBE:
		return decodeSubscribe(v, body)
	case SUBACK:
		return decodeSuback(v, body)
	case UNSUBSCRIBE:
		return decodeUnsubscribe(v, body)
	case UNSUBACK:
		return decodeUnsuback(v, body)
	case PINGREQ:
		return &Pingreq{}, nil
	case PINGRESP:
		return &Pingresp{}, nil
	case DISCONNECT:
		return decodeDisconnect(v, body)
	default: // AUTH: checkHeader rejected every other type.
		return decodeAuth(body)
	}
}

// encoder is implemented by every packet type of this package.
type encoder interface {
	Packet
	// size validates the packet for version v and returns the length of
	// its body.
	size(v Version) (int, error)
	// flags returns the low nibble of the first byte.
	flags() byte
	// appendBody appends the body for version v; size(v) must have
	// returned no error.
	appendBody(v Version, dst []byte) []byte
}

var typeNames = [...]string{"", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
	"SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

// typeName is the lower-case name used in error messages.
func typeName(t Type) string { return strings.ToLower(t.String()) }

// checkHeader checks what the fixed header alone decides: a defined type
// (AUTH only in MQTT 5.0), the reserved flag bits, and the length of the
// packets whose length is fixed. The Reader calls it before reading the body.
func checkHeader(v Version, h FixedHeader) error {
	if h.Type < CONNECT || h.Type > DISCONNECT {
		if err := checkType(v, h.Type); err != nil {
			return err
		}
	}
	if h.Remaining < 0 || h.Remaining > MaxRemainingLength {
		return malformed(typeName(h.Type), "remaining length %d out of range", h.Remaining)
	}
	if err := checkFlags(h.Type, h.Flags); err != nil {
		return err
	}
	if want, fixed := fixedLength(v, h.Type); fixed && h.Remaining != want {
		return malformed(typeName(h.Type), "remaining length %d, want %d", h.Remaining, want)
	}
	return nil
}

// checkFlags checks the reserved flag bits of the fixed header
// [MQTT-2.2.2-1]; invalid flags mean the connection must be closed
// [MQTT-2.2.2-2].
func checkFlags(t Type, flags byte) error {
	switch t {
	case PUBLISH:
		return checkPublishFlags(flags)
	case PUBREL, SUBSCRIBE, UNSUBSCRIBE:
		// PUBREL [MQTT-3.6.1-1], SUBSCRIBE [MQTT-3.8.1-1] and
		// UNSUBSCRIBE [MQTT-3.10.1-1] must carry 0b0010.
		if flags != 0b0010 {
			return malformed(typeName(t), "fixed header flags %#04b, want 0b0010", flags)
		}
	default:
		// All other types have flags 0 [MQTT-2.2.2-1], DISCONNECT
		// included [MQTT-3.14.1-1]; in MQTT 5.0 [MQTT-2.1.3-1], AUTH
		// included [MQTT-3.15.1-1].
		if flags != 0 {
			return malformed(typeName(t), "fixed header flags %#04b, want 0", flags)
		}
	}
	return nil
}

// checkType checks that t is a packet type of version v: types 0 and 15 are
// reserved in MQTT 3.1.1 [MQTT-2.2.1], 15 is AUTH in MQTT 5.0.
func checkType(v Version, t Type) error {
	if t < CONNECT || t > DISCONNECT && (t != AUTH || v < V5) {
		return malformed("fixed header", "reserved packet type %d", byte(t))
	}
	return nil
}

// fixedLength returns the Remaining Length of the packet types whose length
// never varies: in MQTT 3.1.1, 2 for CONNACK [MQTT-3.2.1], PUBACK, PUBREC,
// PUBREL, PUBCOMP and UNSUBACK (the packet identifier), 0 for PINGREQ,
// PINGRESP and DISCONNECT; in MQTT 5.0, where the others have reason codes
// and properties, 0 for PINGREQ and PINGRESP.
func fixedLength(v Version, t Type) (n int, fixed bool) {
	if v >= V5 {
		return 0, t == PINGREQ || t == PINGRESP
	}
	switch t {
	case CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK:
		return 2, true
	case PINGREQ, PINGRESP, DISCONNECT:
		return 0, true
	}
	return 0, false
}

// appendRemaining appends n in the Remaining Length encoding [MQTT-2.2.3]:
// seven bits per byte, least significant first, the high bit set on every
// byte but the last. n must be in [0, MaxRemainingLength].
func appendRemaining(dst []byte, n int) []byte {
	for n > 0x7f {
		dst = append(dst, byte(n&0x7f)|0x80)
		n >>= 7
	}
	return append(dst, byte(n))
}

// appendVarint appends a Variable Byte Integer, the encoding of the
// Remaining Length [MQTT-1.5.5 of 5.0].
func appendVarint(dst []byte, n int) []byte { return appendRemaining(dst, n) }

// varintSize is the number of bytes appendVarint writes for n.
func varintSize(n int) int { return remainingSize(n) }

// AppendVarint appends n (0 to MaxRemainingLength) as a Variable Byte
// Integer, the encoding of the Remaining Length and of property lengths:
// for code that rewrites encoded packets in place of decoding them.
func AppendVarint(dst []byte, n int) []byte { return appendRemaining(dst, n) }

// VarintSize is the number of bytes AppendVarint writes for n.
func VarintSize(n int) int { return remainingSize(n) }

// ReadVarint reads the Variable Byte Integer at b[i:] and returns it and
// the index after it; an error if it is truncated, longer than four bytes
// or not minimal.
func ReadVarint(b []byte, i int) (n, next int, err error) { return readVarint(b, i) }

// remainingSize is the number of bytes appendRemaining writes for n.
func remainingSize(n int) int {
	switch {
	case n < 1<<7:
		return 1
	case n < 1<<14:
		return 2
	case n < 1<<21:
		return 3
	}
	return 4
}

// grow makes room for n more bytes in dst.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	nd := make([]byte, len(dst), len(dst)+n)
	copy(nd, dst)
	return nd
}

// Bounds-checked read helpers. Each reads at offset i of b and returns the
// value, the offset after it, and an error wrapping ErrMalformed when b is too
// short. No other code indexes a body.

// readByte reads one byte.
func readByte(b []byte, i int) (byte, int, error) {
	if i < 0 || i >= len(b) {
		return 0, i, truncated(b, i, 1)
	}
	return b[i], i + 1, nil
}

// readUint16 reads a big-endian two byte integer [MQTT-1.5.2].
func readUint16(b []byte, i int) (uint16, int, error) {
	if i < 0 || len(b)-i < 2 {
		return 0, i, truncated(b, i, 2)
	}
	return uint16(b[i])<<8 | uint16(b[i+1]), i + 2, nil
}

// readUint32 reads a big-endian four byte integer [MQTT-1.5.3 of 5.0].
func readUint32(b []byte, i int) (uint32, int, error) {
	if i < 0 || len(b)-i < 4 {
		return 0, i, truncated(b, i, 4)
	}
	return uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3]), i + 4, nil
}

// readVarint reads a Variable Byte Integer [MQTT-1.5.5 of 5.0]: at most four
// bytes (a fifth is a Malformed Packet), in the minimum number of bytes
// [MQTT-1.5.5-1].
func readVarint(b []byte, i int) (int, int, error) {
	n := 0
	for k := range 4 {
		c, j, err := readByte(b, i+k)
		if err != nil {
			return 0, i, err
		}
		n |= int(c&0x7f) << (7 * k)
		if c&0x80 == 0 {
			if k > 0 && c == 0 {
				return 0, i, fmt.Errorf("variable byte integer of %d bytes is not minimal: %w", k+1, ErrMalformed)
			}
			return n, j, nil
		}
	}
	return 0, i, fmt.Errorf("variable byte integer has a fifth byte: %w", ErrMalformed)
}

// readBinary reads a two byte length and that many bytes. The result aliases b.
func readBinary(b []byte, i int) ([]byte, int, error) {
	n, j, err := readUint16(b, i)
	if err != nil {
		return nil, i, err
	}
	if len(b)-j < int(n) {
		return nil, i, truncated(b, j, int(n))
	}
	return b[j : j+int(n) : j+int(n)], j + int(n), nil
}

// readString reads a UTF-8 encoded string [MQTT-1.5.3] and copies it out.
func readString(b []byte, i int) (string, int, error) {
	v, j, err := readBinary(b, i)
	if err != nil {
		return "", i, err
	}
	if err := checkUTF8(v); err != nil {
		return "", i, err
	}
	return string(v), j, nil
}

// truncated reports that b has fewer than n bytes at offset i.
func truncated(b []byte, i, n int) error {
	return fmt.Errorf("need %d bytes at offset %d of %d: %w", n, i, len(b), ErrMalformed)
}

// checkEnd reports bytes left over after the last field of a packet.
func checkEnd(what string, b []byte, i int) error {
	if i != len(b) {
		return malformed(what, "%d unexpected bytes after the last field", len(b)-i)
	}
	return nil
}

// cloneBytes copies b; an empty b gives nil, so that decoding is canonical.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// appendUint16 appends v big-endian.
func appendUint16(dst []byte, v uint16) []byte { return append(dst, byte(v>>8), byte(v)) }

// appendString appends a length-prefixed string; its length must be ≤ 65535.
func appendString(dst []byte, s string) []byte {
	return append(appendUint16(dst, uint16(len(s))), s...)
}

// appendBinary appends length-prefixed binary data; its length must be ≤ 65535.
func appendBinary(dst []byte, b []byte) []byte {
	return append(appendUint16(dst, uint16(len(b))), b...)
}
