package packet

import (
	"errors"
	"fmt"
)

// Errors returned by [Decode], [ReadPacket], [Reader.Read] and [Append], and
// their [Version] methods. They
// are always wrapped with a message saying which packet and which field was
// wrong, e.g. "packet: subscribe: requested qos 3: malformed packet"; test
// for them with [errors.Is]. Any of them means the network connection must be
// closed [MQTT-4.8.0-1].
var (
	// ErrMalformed means the bytes do not follow the wire format: a length
	// runs past the end of the packet, bytes are left over, a reserved bit
	// or flag has the wrong value, a QoS is 3, a string is not well-formed
	// UTF-8, a Remaining Length has a fifth byte, or the packet type is 0
	// or 15 (AUTH in MQTT 5.0). In MQTT 5.0 also: a property its packet
	// may not carry or of an unknown identifier, a Variable Byte Integer
	// of five bytes or not minimal, reserved subscription option bits.
	// A server closes with reason code 0x81 (Malformed Packet).
	ErrMalformed = errors.New("malformed packet")

	// ErrProtocol means the packet is well-formed but breaks a rule of the
	// protocol: a packet identifier of 0, a topic name with wildcards or of
	// length 0, a SUBSCRIBE without filters, an unknown protocol name. In
	// MQTT 5.0 also: a property given twice that may not repeat, a reason
	// code the packet type may not carry, a property value out of range
	// (a Subscription Identifier, Receive Maximum or Maximum Packet Size
	// of 0, a Topic Alias of 0, a flag other than 0 or 1), Retain
	// Handling 3, No Local on a shared subscription. A server closes with
	// reason code 0x82 (Protocol Error), or the more precise one the error
	// also wraps (see [Reason]).
	ErrProtocol = errors.New("protocol violation")

	// ErrTooLarge means a packet's Remaining Length is above the reader's
	// limit (checked before anything is allocated for the body), or a
	// packet to encode does not fit in 268,435,455 bytes.
	ErrTooLarge = errors.New("packet too large")
)

// Error describes the refusal; the zero code [Accepted] is not an error, but
// its Error method still returns a description.
func (c ConnackCode) Error() string {
	switch c {
	case Accepted:
		return "packet: connection accepted"
	case RefusedProtocolVersion:
		return "packet: connection refused: unacceptable protocol version"
	case RefusedIdentifierRejected:
		return "packet: connection refused: identifier rejected"
	case RefusedServerUnavailable:
		return "packet: connection refused: server unavailable"
	case RefusedBadUsernamePassword:
		return "packet: connection refused: bad user name or password"
	case RefusedNotAuthorized:
		return "packet: connection refused: not authorized"
	}
	return fmt.Sprintf("packet: connection refused: reserved return code %d", byte(c))
}

//

// malformed wraps ErrMalformed with "packet: <what>: ".
func malformed(what string, format string, args ...any) error {
	return fmt.Errorf("packet: %s: %s: %w", what, fmt.Sprintf(format, args...), ErrMalformed)
}

// protocol wraps ErrProtocol with "packet: <what>: ".
func protocol(what string, format string, args ...any) error {
	return fmt.Errorf("packet: %s: %s: %w", what, fmt.Sprintf(format, args...), ErrProtocol)
}

// field prefixes an error from a read helper with the packet and field name.
func field(what, name string, err error) error {
	return fmt.Errorf("packet: %s: %s: %w", what, name, err)
}
