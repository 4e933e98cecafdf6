// Package packet is the MQTT 3.1.1 and 5.0 wire codec (MQTT 3.1 too): one
// struct per control packet, [Append] to encode, [Decode] and [ReadPacket]
// to decode in MQTT 3.1.1, and the same as methods of [Version] for any
// version ([V5].Decode, [V5].Append, [Reader.SetVersion]).
//
// MQTT 5.0 adds [Properties] to most packets (a nil pointer when there are
// none, so 3.1.1 packets do not pay for them), a [ReasonCode] to the
// acknowledgements, DISCONNECT and AUTH, and subscription options. The
// decoder enforces which properties each packet may carry and which may
// repeat; errors wrap a sentinel and, where the standard asks for a more
// precise one, a ReasonCode: [Reason] tells a server which reason code to
// close the connection with.
//
// Every read from a buffer is bounds-checked, and [ReadPacket] rejects a
// declared Remaining Length above the caller's limit before it allocates
// anything. Decoded packets own their bytes: nothing aliases the input buffer.
// Conformance statements of the OASIS MQTT 3.1.1 standard are cited in
// comments as [MQTT-x.y.z-n]; those of MQTT 5.0, where its numbering
// differs, in the code that handles MQTT 5.0 only, and sections without a
// numbered statement as (x.y.z).
package packet

// Type is the MQTT control packet type, the high nibble of the first byte.
type Type byte

// Control packet types [MQTT-2.2.1].
const (
	CONNECT     Type = 1
	CONNACK     Type = 2
	PUBLISH     Type = 3
	PUBACK      Type = 4
	PUBREC      Type = 5
	PUBREL      Type = 6
	PUBCOMP     Type = 7
	SUBSCRIBE   Type = 8
	SUBACK      Type = 9
	UNSUBSCRIBE Type = 10
	UNSUBACK    Type = 11
	PINGREQ     Type = 12
	PINGRESP    Type = 13
	DISCONNECT  Type = 14
	AUTH        Type = 15 // MQTT 5.0 only; reserved in 3.1.1
)

// MaxRemainingLength is the largest Remaining Length four bytes can encode.
const MaxRemainingLength = 268_435_455

// FixedHeader is the first part of every control packet.
type FixedHeader struct {
	Type      Type
	Flags     byte // the low nibble of the first byte
	Remaining int  // the Remaining Length: bytes after the fixed header
}

// Packet is one decoded MQTT control packet.
type Packet interface {
	// Type reports the control packet type.
	Type() Type
}

// Connect is the CONNECT packet [MQTT-3.1].
type Connect struct {
	ProtocolName  string // "MQTT" for levels 4 and 5
	ProtocolLevel byte   // 4 for MQTT 3.1.1, 5 for 5.0 (3 with "MQIsdp" for 3.1)
	CleanSession  bool   // Clean Start in MQTT 5.0
	KeepAlive     uint16 // seconds; 0 disables keepalive
	ClientID      string

	WillFlag    bool
	WillQoS     byte
	WillRetain  bool
	WillTopic   string
	WillMessage []byte
	WillProps   *Properties // MQTT 5.0 will properties; nil for none

	UsernameFlag bool
	Username     string
	PasswordFlag bool
	Password     []byte

	Props *Properties // MQTT 5.0 properties; nil for none
}

// ConnackCode is a CONNACK return code [MQTT-3.2.2.3]. The non-zero codes
// implement error.
type ConnackCode byte

// CONNACK return codes.
const (
	Accepted                   ConnackCode = 0x00
	RefusedProtocolVersion     ConnackCode = 0x01
	RefusedIdentifierRejected  ConnackCode = 0x02
	RefusedServerUnavailable   ConnackCode = 0x03
	RefusedBadUsernamePassword ConnackCode = 0x04
	RefusedNotAuthorized       ConnackCode = 0x05
)

// Connack is the CONNACK packet [MQTT-3.2]. MQTT 3.1.1 encodes ReturnCode,
// MQTT 5.0 ReasonCode and Props; each ignores the other's fields, but
// refuses a Connack that says success in its own field and refusal in the
// other's (set both, e.g. with [ConnackCode.ReasonCode], or the version's
// own).
type Connack struct {
	SessionPresent bool
	ReturnCode     ConnackCode
	ReasonCode     ReasonCode
	Props          *Properties
}

// Publish is the PUBLISH packet [MQTT-3.3].
type Publish struct {
	Dup      bool
	QoS      byte
	Retain   bool
	Topic    string
	PacketID uint16 // present only when QoS > 0
	Payload  []byte
	Props    *Properties // MQTT 5.0 properties; nil for none
}

// Ack is the body shared by the acknowledgements of PUBLISH and PUBREL:
// [Puback], [Pubrec], [Pubrel] and [Pubcomp] are Acks (and convert to one).
// In MQTT 5.0 the reason code and properties are omitted on the wire when
// they are Success and none (a Remaining Length of 2, as in 3.1.1).
type Ack struct {
	PacketID   uint16
	ReasonCode ReasonCode  // MQTT 5.0
	Props      *Properties // MQTT 5.0; nil for none
}

// Puback is the PUBACK packet [MQTT-3.4].
type Puback Ack

// Pubrec is the PUBREC packet [MQTT-3.5].
type Pubrec Ack

// Pubrel is the PUBREL packet [MQTT-3.6]; its fixed header flags are 0b0010.
type Pubrel Ack

// Pubcomp is the PUBCOMP packet [MQTT-3.7].
type Pubcomp Ack

// Subscription is one topic filter and its options in a SUBSCRIBE: the
// requested QoS, and in MQTT 5.0 the other subscription options (3.8.3.1).
type Subscription struct {
	Filter            string
	QoS               byte
	NoLocal           bool // MQTT 5.0: not to the publishing connection
	RetainAsPublished bool // MQTT 5.0: keep the RETAIN flag when forwarding
	RetainHandling    byte // MQTT 5.0: 0 send retained, 1 only if new, 2 do not send
}

// Subscribe is the SUBSCRIBE packet [MQTT-3.8].
type Subscribe struct {
	PacketID      uint16
	Subscriptions []Subscription
	Props         *Properties // MQTT 5.0 properties; nil for none
}

// SubackFailure is the SUBACK return code for a refused subscription.
const SubackFailure byte = 0x80

// Suback is the SUBACK packet [MQTT-3.9]: one return code per filter, the
// granted QoS (0, 1, 2) or SubackFailure; in MQTT 5.0 a [ReasonCode] per
// filter.
type Suback struct {
	PacketID    uint16
	ReturnCodes []byte
	Props       *Properties // MQTT 5.0 properties; nil for none
}

// Unsubscribe is the UNSUBSCRIBE packet [MQTT-3.10].
type Unsubscribe struct {
	PacketID uint16
	Filters  []string
	Props    *Properties // MQTT 5.0 properties; nil for none
}

// Unsuback is the UNSUBACK packet [MQTT-3.11]; in MQTT 5.0 it carries a
// [ReasonCode] per filter of the UNSUBSCRIBE.
type Unsuback struct {
	PacketID    uint16
	ReasonCodes []byte      // MQTT 5.0
	Props       *Properties // MQTT 5.0; nil for none
}

// Pingreq is the PINGREQ packet [MQTT-3.12].
type Pingreq struct{}

// Pingresp is the PINGRESP packet [MQTT-3.13].
type Pingresp struct{}

// Disconnect is the DISCONNECT packet [MQTT-3.14]; in MQTT 5.0 it carries a
// reason code and properties, both omitted on the wire when they are
// NormalDisconnection and none (a Remaining Length of 0).
type Disconnect struct {
	ReasonCode ReasonCode  // MQTT 5.0
	Props      *Properties // MQTT 5.0; nil for none
}

// Auth is the MQTT 5.0 AUTH packet (3.15), for enhanced authentication; its
// reason code and properties are omitted on the wire when they are Success
// and none.
type Auth struct {
	ReasonCode ReasonCode
	Props      *Properties // nil for none
}

// Type implements Packet.
func (*Connect) Type() Type { return CONNECT }

// Type implements Packet.
func (*Connack) Type() Type { return CONNACK }

// Type implements Packet.
func (*Publish) Type() Type { return PUBLISH }

// Type implements Packet.
func (*Puback) Type() Type { return PUBACK }

// Type implements Packet.
func (*Pubrec) Type() Type { return PUBREC }

// Type implements Packet.
func (*Pubrel) Type() Type { return PUBREL }

// Type implements Packet.
func (*Pubcomp) Type() Type { return PUBCOMP }

// Type implements Packet.
func (*Subscribe) Type() Type { return SUBSCRIBE }

// Type implements Packet.
func (*Suback) Type() Type { return SUBACK }

// Type implements Packet.
func (*Unsubscribe) Type() Type { return UNSUBSCRIBE }

// Type implements Packet.
func (*Unsuback) Type() Type { return UNSUBACK }

// Type implements Packet.
func (*Pingreq) Type() Type { return PINGREQ }

// Type implements Packet.
func (*Pingresp) Type() Type { return PINGRESP }

// Type implements Packet.
func (*Disconnect) Type() Type { return DISCONNECT }

// Type implements Packet.
func (*Auth) Type() Type { return AUTH }

// Reading the source: codec.go holds Append, Decode, the fixed header and
// the bounds-checked read helpers; version.go the Version type; validate.go
// the checks that the decoder and the encoder share; reader.go ReadPacket and
// Reader; errors.go the sentinel errors; reason.go the MQTT 5.0 reason codes
// and which packet may carry which; properties.go the MQTT 5.0 properties,
// their table and codec; and one file per packet type (connect.go,
// publish.go, ...; ack.go for PUBACK, PUBREC, PUBREL and PUBCOMP,
// disconnect.go for DISCONNECT and AUTH) its encoding and decoding, each
// check citing its conformance statement.
