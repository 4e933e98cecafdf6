package packet

import "fmt"

// Properties are the MQTT 5.0 properties of a packet, or of a CONNECT's
// will [MQTT-2.2.2]. Packets hold them as a pointer, nil when the packet has
// none (a Property Length of 0), so MQTT 3.1.1 packets pay nothing for them.
//
// Which properties a packet may carry is fixed by the standard (table 2-4);
// the comment of each field names the packets. [Append] refuses, and
// [Decode] reports as Malformed Packet [MQTT-2.2.2.2], a property that its
// packet may not carry. Only User Property repeats, and Subscription
// Identifier in PUBLISH; any other property twice is a Protocol Error.
//
// A zero field is an absent property, so an explicit zero on the wire (a
// Payload Format Indicator of 0, an empty Content Type, a Message Expiry
// Interval of 0) decodes to the same Properties as its absence, and is not
// re-encoded. Where absence and zero differ (Session Expiry Interval in a
// DISCONNECT, Server Keep Alive, and the properties whose absence means 1
// or 2), the field is a pointer.
type Properties struct {
	// PayloadFormat is the Payload Format Indicator (0x01; PUBLISH, will):
	// 0 unspecified bytes, 1 UTF-8 character data.
	PayloadFormat byte
	// MessageExpiry is the Message Expiry Interval (0x02; PUBLISH, will) in
	// seconds; 0 means the message does not expire.
	MessageExpiry uint32
	// ContentType is the Content Type (0x03; PUBLISH, will).
	ContentType string
	// ResponseTopic is the Response Topic (0x08; PUBLISH, will), a topic
	// name [MQTT-3.3.2-14].
	ResponseTopic string
	// CorrelationData is the Correlation Data (0x09; PUBLISH, will).
	CorrelationData []byte
	// SubscriptionIDs are the Subscription Identifiers (0x0B), each in
	// 1..268,435,455: any number in a PUBLISH, at most one in a SUBSCRIBE.
	SubscriptionIDs []uint32
	// SessionExpiry is the Session Expiry Interval (0x11; CONNECT,
	// CONNACK, DISCONNECT) in seconds; nil when absent.
	SessionExpiry *uint32
	// AssignedClientID is the Assigned Client Identifier (0x12; CONNACK).
	AssignedClientID string
	// ServerKeepAlive is the Server Keep Alive (0x13; CONNACK) in seconds;
	// nil when absent.
	ServerKeepAlive *uint16
	// AuthMethod is the Authentication Method (0x15; CONNECT, CONNACK,
	// AUTH).
	AuthMethod string
	// AuthData is the Authentication Data (0x16; CONNECT, CONNACK, AUTH).
	AuthData []byte
	// RequestProblemInfo is the Request Problem Information (0x17;
	// CONNECT); nil means absent, which means true.
	RequestProblemInfo *bool
	// WillDelay is the Will Delay Interval (0x18; will) in seconds.
	WillDelay uint32
	// RequestResponseInfo is the Request Response Information (0x19;
	// CONNECT).
	RequestResponseInfo bool
	// ResponseInfo is the Response Information (0x1A; CONNACK).
	ResponseInfo string
	// ServerReference is the Server Reference (0x1C; CONNACK, DISCONNECT).
	ServerReference string
	// ReasonString is the Reason String (0x1F; CONNACK, PUBACK, PUBREC,
	// PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH).
	ReasonString string
	// ReceiveMaximum is the Receive Maximum (0x21; CONNECT, CONNACK); 0
	// means absent, which means 65,535 (a 0 on the wire is a Protocol
	// Error).
	ReceiveMaximum uint16
	// TopicAliasMaximum is the Topic Alias Maximum (0x22; CONNECT,
	// CONNACK); 0 means no topic alias is accepted.
	TopicAliasMaximum uint16
	// TopicAlias is the Topic Alias (0x23; PUBLISH); 0 means absent. An
	// alias of 0 on the wire is refused with [TopicAliasInvalid]
	// [MQTT-3.3.2-8]; one above the receiver's Topic Alias Maximum is the
	// receiver's to check (see [Publish.CheckTopicAlias]).
	TopicAlias uint16
	// MaximumQoS is the Maximum QoS (0x24; CONNACK), 0 or 1; nil means
	// absent, which means 2.
	MaximumQoS *byte
	// RetainAvailable is Retain Available (0x25; CONNACK); nil means true.
	RetainAvailable *bool
	// User holds the User Properties (0x26; every packet that has
	// properties, and the will), in order.
	User []UserProperty
	// MaximumPacketSize is the Maximum Packet Size (0x27; CONNECT,
	// CONNACK) in bytes; 0 means absent, which means no limit (a 0 on the
	// wire is a Protocol Error).
	MaximumPacketSize uint32
	// WildcardSubAvailable is Wildcard Subscription Available (0x28;
	// CONNACK); nil means true.
	WildcardSubAvailable *bool
	// SubIDAvailable is Subscription Identifiers Available (0x29;
	// CONNACK); nil means true.
	SubIDAvailable *bool
	// SharedSubAvailable is Shared Subscription Available (0x2A; CONNACK);
	// nil means true.
	SharedSubAvailable *bool
}

// UserProperty is one User Property: a UTF-8 string pair [MQTT-1.5.7].
type UserProperty struct {
	Key, Value string
}

//

// Property identifiers [MQTT-2.2.2.2].
const (
	propPayloadFormat        = 0x01
	propMessageExpiry        = 0x02
	propContentType          = 0x03
	propResponseTopic        = 0x08
	propCorrelationData      = 0x09
	propSubscriptionID       = 0x0b
	propSessionExpiry        = 0x11
	propAssignedClientID     = 0x12
	propServerKeepAlive      = 0x13
	propAuthMethod           = 0x15
	propAuthData             = 0x16
	propRequestProblemInfo   = 0x17
	propWillDelay            = 0x18
	propRequestResponseInfo  = 0x19
	propResponseInfo         = 0x1a
	propServerReference      = 0x1c
	propReasonString         = 0x1f
	propReceiveMaximum       = 0x21
	propTopicAliasMaximum    = 0x22
	propTopicAlias           = 0x23
	propMaximumQoS           = 0x24
	propRetainAvailable      = 0x25
	propUser                 = 0x26
	propMaximumPacketSize    = 0x27
	propWildcardSubAvailable = 0x28
	propSubIDAvailable       = 0x29
	propSharedSubAvailable   = 0x2a
)

// propKind is the data type of a property's value [MQTT-1.5].
type propKind byte

const (
	kindByte   propKind = iota + 1 // one byte
	kindUint16                     // two byte integer
	kindUint32                     // four byte integer
	kindVarint                     // variable byte integer
	kindString                     // UTF-8 encoded string
	kindBinary                     // binary data
	kindPair                       // UTF-8 string pair
)

// propScope says where a property may appear: bit t for packet type t, bit 0
// (which no packet type uses) for the will properties of a CONNECT.
type propScope uint16

// willScope stands for the will properties.
const willScope propScope = 1

// in returns the scope of packet type t.
func in(types ...Type) propScope {
	var s propScope
	for _, t := range types {
		s |= 1 << t
	}
	return s
}

// propSpec describes one property identifier: table 2-4.
type propSpec struct {
	name   string
	kind   propKind
	scope  propScope
	repeat propScope // where it may appear more than once
}

// propSpecs is table 2-4 of the standard, indexed by property identifier.
var propSpecs = [propSharedSubAvailable + 1]propSpec{
	propPayloadFormat:        {"payload format indicator", kindByte, willScope | in(PUBLISH), 0},
	propMessageExpiry:        {"message expiry interval", kindUint32, willScope | in(PUBLISH), 0},
	propContentType:          {"content type", kindString, willScope | in(PUBLISH), 0},
	propResponseTopic:        {"response topic", kindString, willScope | in(PUBLISH), 0},
	propCorrelationData:      {"correlation data", kindBinary, willScope | in(PUBLISH), 0},
	propSubscriptionID:       {"subscription identifier", kindVarint, in(PUBLISH, SUBSCRIBE), in(PUBLISH)},
	propSessionExpiry:        {"session expiry interval", kindUint32, in(CONNECT, CONNACK, DISCONNECT), 0},
	propAssignedClientID:     {"assigned client identifier", kindString, in(CONNACK), 0},
	propServerKeepAlive:      {"server keep alive", kindUint16, in(CONNACK), 0},
	propAuthMethod:           {"authentication method", kindString, in(CONNECT, CONNACK, AUTH), 0},
	propAuthData:             {"authentication data", kindBinary, in(CONNECT, CONNACK, AUTH), 0},
	propRequestProblemInfo:   {"request problem information", kindByte, in(CONNECT), 0},
	propWillDelay:            {"will delay interval", kindUint32, willScope, 0},
	propRequestResponseInfo:  {"request response information", kindByte, in(CONNECT), 0},
	propResponseInfo:         {"response information", kindString, in(CONNACK), 0},
	propServerReference:      {"server reference", kindString, in(CONNACK, DISCONNECT), 0},
	propReasonString:         {"reason string", kindString, in(CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH), 0},
	propReceiveMaximum:       {"receive maximum", kindUint16, in(CONNECT, CONNACK), 0},
	propTopicAliasMaximum:    {"topic alias maximum", kindUint16, in(CONNECT, CONNACK), 0},
	propTopicAlias:           {"topic alias", kindUint16, in(PUBLISH), 0},
	propMaximumQoS:           {"maximum qos", kindByte, in(CONNACK), 0},
	propRetainAvailable:      {"retain available", kindByte, in(CONNACK), 0},
	propUser:                 {"user property", kindPair, willScope | in(CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH), ^propScope(0)},
	propMaximumPacketSize:    {"maximum packet size", kindUint32, in(CONNECT, CONNACK), 0},
	propWildcardSubAvailable: {"wildcard subscription available", kindByte, in(CONNACK), 0},
	propSubIDAvailable:       {"subscription identifier available", kindByte, in(CONNACK), 0},
	propSharedSubAvailable:   {"shared subscription available", kindByte, in(CONNACK), 0},
}

// propValue is one decoded or to-be-encoded property value: num for the
// integer kinds, s (and s2 for a pair) for strings, bin for binary data.
type propValue struct {
	num   uint32
	s, s2 string
	bin   []byte
}

// readProps reads a Property Length and the properties after it at b[i:]
// [MQTT-2.2.2], for the packet (or will) of scope sc; what names it in
// errors. It returns nil Properties for a length of 0, and the offset after
// the properties. The length is checked against the bytes left before
// anything is decoded.
func readProps(what string, sc propScope, b []byte, i int) (*Properties, int, error) {
	n, j, err := readVarint(b, i)
	if err != nil {
		return nil, i, field(what, "property length", err)
	}
	if n > len(b)-j {
		return nil, i, field(what, "properties", truncated(b, j, n))
	}
	if n == 0 {
		return nil, j, nil
	}
	p := &Properties{}
	if err := p.decode(what, sc, b[j:j+n]); err != nil {
		return nil, i, err
	}
	if propsLen(p) == 0 {
		// Only explicit zeros, which mean what absence means: keep
		// the canonical nil.
		return nil, j + n, nil
	}
	return p, j + n, nil
}

// decode decodes the properties in b, which holds exactly them.
func (p *Properties) decode(what string, sc propScope, b []byte) error {
	var seen uint64
	for i := 0; i < len(b); {
		id, j, err := readVarint(b, i)
		if err != nil {
			return field(what, "property identifier", err)
		}
		if id >= len(propSpecs) || propSpecs[id].kind == 0 || propSpecs[id].scope&sc == 0 {
			// An identifier not valid for the packet type is a
			// Malformed Packet [MQTT-2.2.2.2].
			return malformed(what, "property identifier %#02x not allowed here", id)
		}
		spec := &propSpecs[id]
		if seen&(1<<id) != 0 && spec.repeat&sc == 0 {
			return protocol(what, "%s more than once", spec.name)
		}
		seen |= 1 << id
		v, j, err := readPropValue(spec.kind, b, j)
		if err != nil {
			return field(what, spec.name, err)
		}
		if err := checkPropValue(byte(id), v); err != nil {
			return field(what, spec.name, err)
		}
		p.set(byte(id), v)
		i = j
	}
	return nil
}

// readPropValue reads one value of kind k at b[i:]. Strings are checked
// and copied, binary data aliases b.
func readPropValue(k propKind, b []byte, i int) (v propValue, j int, err error) {
	switch k {
	case kindByte:
		var c byte
		c, j, err = readByte(b, i)
		v.num = uint32(c)
	case kindUint16:
		var u uint16
		u, j, err = readUint16(b, i)
		v.num = uint32(u)
	case kindUint32:
		v.num, j, err = readUint32(b, i)
	case kindVarint:
		var n int
		n, j, err = readVarint(b, i)
		v.num = uint32(n)
	case kindString:
		v.s, j, err = readString(b, i)
	case kindBinary:
		v.bin, j, err = readBinary(b, i)
	default: // kindPair
		if v.s, j, err = readString(b, i); err == nil {
			v.s2, j, err = readString(b, j)
		}
	}
	return v, j, err
}

// checkPropValue checks the value rules of property id, shared by the
// decoder and the encoder.
func checkPropValue(id byte, v propValue) error {
	switch id {
	case propPayloadFormat, propRequestProblemInfo, propRequestResponseInfo, propMaximumQoS,
		propRetainAvailable, propWildcardSubAvailable, propSubIDAvailable, propSharedSubAvailable:
		if v.num > 1 {
			// Each of these is 0 or 1; anything else is a Protocol
			// Error (3.1.2.11, 3.2.2.3, 3.3.2.3.2).
			return fmt.Errorf("value %d, want 0 or 1: %w", v.num, ErrProtocol)
		}
	case propSubscriptionID, propReceiveMaximum, propMaximumPacketSize:
		if v.num == 0 {
			// A Subscription Identifier, Receive Maximum or Maximum
			// Packet Size of 0 is a Protocol Error (3.3.2.3.8,
			// 3.1.2.11.3, 3.1.2.11.4).
			return fmt.Errorf("value 0: %w", ErrProtocol)
		}
	case propTopicAlias:
		if v.num == 0 {
			// [MQTT-3.3.2-8]; the receiver answers DISCONNECT 0x94.
			return fmt.Errorf("value 0: %w: %w", TopicAliasInvalid, ErrProtocol)
		}
	case propResponseTopic:
		// A topic name, without wildcards [MQTT-3.3.2-14].
		return checkTopicName(v.s)
	}
	return nil
}

// set stores a checked value.
func (p *Properties) set(id byte, v propValue) {
	switch id {
	case propPayloadFormat:
		p.PayloadFormat = byte(v.num)
	case propMessageExpiry:
		p.MessageExpiry = v.num
	case propContentType:
		p.ContentType = v.s
	case propResponseTopic:
		p.ResponseTopic = v.s
	case propCorrelationData:
		p.CorrelationData = cloneBytes(v.bin)
	case propSubscriptionID:
		p.SubscriptionIDs = append(p.SubscriptionIDs, v.num)
	case propSessionExpiry:
		n := v.num // only this case allocates
		p.SessionExpiry = &n
	case propAssignedClientID:
		p.AssignedClientID = v.s
	case propServerKeepAlive:
		u := uint16(v.num)
		p.ServerKeepAlive = &u
	case propAuthMethod:
		p.AuthMethod = v.s
	case propAuthData:
		p.AuthData = cloneBytes(v.bin)
	case propRequestProblemInfo:
		p.RequestProblemInfo = boolPtr(v.num == 1)
	case propWillDelay:
		p.WillDelay = v.num
	case propRequestResponseInfo:
		p.RequestResponseInfo = v.num == 1
	case propResponseInfo:
		p.ResponseInfo = v.s
	case propServerReference:
		p.ServerReference = v.s
	case propReasonString:
		p.ReasonString = v.s
	case propReceiveMaximum:
		p.ReceiveMaximum = uint16(v.num)
	case propTopicAliasMaximum:
		p.TopicAliasMaximum = uint16(v.num)
	case propTopicAlias:
		p.TopicAlias = uint16(v.num)
	case propMaximumQoS:
		q := byte(v.num)
		p.MaximumQoS = &q
	case propRetainAvailable:
		p.RetainAvailable = boolPtr(v.num == 1)
	case propUser:
		p.User = append(p.User, UserProperty{Key: v.s, Value: v.s2})
	case propMaximumPacketSize:
		p.MaximumPacketSize = v.num
	case propWildcardSubAvailable:
		p.WildcardSubAvailable = boolPtr(v.num == 1)
	case propSubIDAvailable:
		p.SubIDAvailable = boolPtr(v.num == 1)
	case propSharedSubAvailable:
		p.SharedSubAvailable = boolPtr(v.num == 1)
	}
}

// each calls f for every present property: the single-valued ones in
// identifier order, then the Subscription Identifiers, then the User
// Properties.
func (p *Properties) each(f visitFunc) {
	if p == nil {
		return
	}
	f.num(propPayloadFormat, p.PayloadFormat != 0, uint32(p.PayloadFormat))
	f.num(propMessageExpiry, p.MessageExpiry != 0, p.MessageExpiry)
	f.str(propContentType, p.ContentType)
	f.str(propResponseTopic, p.ResponseTopic)
	f.bin(propCorrelationData, p.CorrelationData)
	f.num(propSessionExpiry, p.SessionExpiry != nil, deref(p.SessionExpiry))
	f.str(propAssignedClientID, p.AssignedClientID)
	f.num(propServerKeepAlive, p.ServerKeepAlive != nil, uint32(deref(p.ServerKeepAlive)))
	f.str(propAuthMethod, p.AuthMethod)
	f.bin(propAuthData, p.AuthData)
	f.flag(propRequestProblemInfo, p.RequestProblemInfo)
	f.num(propWillDelay, p.WillDelay != 0, p.WillDelay)
	f.num(propRequestResponseInfo, p.RequestResponseInfo, 1)
	f.str(propResponseInfo, p.ResponseInfo)
	f.str(propServerReference, p.ServerReference)
	f.str(propReasonString, p.ReasonString)
	f.num(propReceiveMaximum, p.ReceiveMaximum != 0, uint32(p.ReceiveMaximum))
	f.num(propTopicAliasMaximum, p.TopicAliasMaximum != 0, uint32(p.TopicAliasMaximum))
	f.num(propTopicAlias, p.TopicAlias != 0, uint32(p.TopicAlias))
	f.num(propMaximumQoS, p.MaximumQoS != nil, uint32(deref(p.MaximumQoS)))
	f.flag(propRetainAvailable, p.RetainAvailable)
	f.num(propMaximumPacketSize, p.MaximumPacketSize != 0, p.MaximumPacketSize)
	f.flag(propWildcardSubAvailable, p.WildcardSubAvailable)
	f.flag(propSubIDAvailable, p.SubIDAvailable)
	f.flag(propSharedSubAvailable, p.SharedSubAvailable)
	for _, id := range p.SubscriptionIDs {
		f(propSubscriptionID, propValue{num: id})
	}
	for _, u := range p.User {
		f(propUser, propValue{s: u.Key, s2: u.Value})
	}
}

// visitFunc receives the properties each finds present.
type visitFunc func(id byte, v propValue)

// num visits an integer property when present.
func (f visitFunc) num(id byte, present bool, n uint32) {
	if present {
		f(id, propValue{num: n})
	}
}

// str visits a string property when not empty.
func (f visitFunc) str(id byte, s string) {
	if s != "" {
		f(id, propValue{s: s})
	}
}

// bin visits a binary property when not empty.
func (f visitFunc) bin(id byte, b []byte) {
	if len(b) > 0 {
		f(id, propValue{bin: b})
	}
}

// flag visits an optional 0/1 property when set.
func (f visitFunc) flag(id byte, b *bool) {
	if b != nil {
		f(id, boolValue(b))
	}
}

// propsSize checks p for the packet (or will) of scope sc, as the decoder
// would, and returns the length of its encoding without the Property
// Length.
func propsSize(what string, sc propScope, p *Properties) (int, error) {
	if p == nil {
		return 0, nil
	}
	n := 0
	var err error
	p.each(func(id byte, v propValue) {
		if err == nil {
			n, err = addProp(what, sc, n, id, v)
		}
	})
	if err == nil && len(p.SubscriptionIDs) > 1 && propSpecs[propSubscriptionID].repeat&sc == 0 {
		err = protocol(what, "subscription identifier more than once")
	}
	return n, err
}

// addProp checks one property for the packet of scope sc and adds its
// size to n.
func addProp(what string, sc propScope, n int, id byte, v propValue) (int, error) {
	spec := &propSpecs[id]
	if spec.scope&sc == 0 {
		return n, malformed(what, "%s not allowed here", spec.name)
	}
	if err := checkEncodable(spec.kind, v); err != nil {
		return n, field(what, spec.name, err)
	}
	if err := checkPropValue(id, v); err != nil {
		return n, field(what, spec.name, err)
	}
	if n += 1 + valueSize(spec.kind, v); n > MaxRemainingLength {
		// Stop before n can overflow a 32-bit int.
		return n, fmt.Errorf("packet: %s: properties exceed %d bytes: %w", what, MaxRemainingLength, ErrTooLarge)
	}
	return n, nil
}

// propsLen is the length of p's encoding without the Property Length; p
// must have passed propsSize.
func propsLen(p *Properties) int {
	n := 0
	p.each(func(id byte, v propValue) {
		n += 1 + valueSize(propSpecs[id].kind, v)
	})
	return n
}

// propsFieldSize is the size of the Property Length and the properties.
func propsFieldSize(n int) int { return varintSize(n) + n }

// appendProps appends the Property Length n and the properties of p; n
// must come from propsSize.
func appendProps(dst []byte, n int, p *Properties) []byte {
	dst = appendVarint(dst, n)
	p.each(func(id byte, v propValue) {
		dst = appendPropValue(append(dst, id), propSpecs[id].kind, v)
	})
	return dst
}

// checkEncodable checks what the wire format limits: string and binary
// lengths, UTF-8, and the variable byte integer range.
func checkEncodable(k propKind, v propValue) error {
	switch k {
	case kindVarint:
		if v.num > MaxRemainingLength {
			return fmt.Errorf("value %d exceeds %d: %w", v.num, MaxRemainingLength, ErrMalformed)
		}
	case kindString:
		return checkUTF8String(v.s)
	case kindBinary:
		return checkBinary(v.bin)
	case kindPair:
		if err := checkUTF8String(v.s); err != nil {
			return err
		}
		return checkUTF8String(v.s2) // [MQTT-1.5.7-1]
	}
	return nil
}

// valueSize is the encoded size of a value of kind k.
func valueSize(k propKind, v propValue) int {
	switch k {
	case kindByte:
		return 1
	case kindUint16:
		return 2
	case kindUint32:
		return 4
	case kindVarint:
		return varintSize(int(v.num))
	case kindString:
		return 2 + len(v.s)
	case kindBinary:
		return 2 + len(v.bin)
	}
	return 4 + len(v.s) + len(v.s2) // kindPair
}

// appendPropValue appends a value of kind k.
func appendPropValue(dst []byte, k propKind, v propValue) []byte {
	switch k {
	case kindByte:
		return append(dst, byte(v.num))
	case kindUint16:
		return appendUint16(dst, uint16(v.num))
	case kindUint32:
		return append(dst, byte(v.num>>24), byte(v.num>>16), byte(v.num>>8), byte(v.num))
	case kindVarint:
		return appendVarint(dst, int(v.num))
	case kindString:
		return appendString(dst, v.s)
	case kindBinary:
		return appendBinary(dst, v.bin)
	}
	return appendString(appendString(dst, v.s), v.s2) // kindPair
}

// boolPtr returns a pointer to a copy of b.
func boolPtr(b bool) *bool { return &b }

// boolValue encodes an optional flag as 0 or 1.
func boolValue(b *bool) propValue {
	if b != nil && *b {
		return propValue{num: 1}
	}
	return propValue{}
}

// deref returns *p, or 0 when p is nil.
func deref[T uint16 | uint32 | byte](p *T) T {
	if p == nil {
		return 0
	}
	return *p
}
