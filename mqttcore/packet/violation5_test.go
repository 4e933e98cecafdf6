package packet

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// violation5 is one MQTT 5.0 packet that breaks one rule: the sentinel its
// error wraps, the reason code a server closes the connection with, and a
// fragment of the message.
type violation5 struct {
	spec   string
	name   string
	wire   []byte
	want   error
	reason ReasonCode
	msg    string
}

var violations5 = []violation5{
	// Fixed header.
	{"MQTT-3.15.1-1", "auth flags 0001", []byte{0xf1, 0x00}, ErrMalformed, MalformedPacket, "auth: fixed header flags"},
	{"MQTT-3.14.1-1", "disconnect flags 0010", []byte{0xe2, 0x00}, ErrMalformed, MalformedPacket, "disconnect: fixed header flags"},
	{"MQTT-2.1.3-1", "pingreq length 1", []byte{0xc0, 0x01, 0x00}, ErrMalformed, MalformedPacket, "pingreq: remaining length 1"},
	{"MQTT-1.5.5-1", "non-minimal remaining length", []byte{0xc0, 0x80, 0x00}, ErrMalformed, MalformedPacket,
		"fixed header: remaining length of 2 bytes is not minimal"},

	// Properties: a property not allowed for the packet type is a
	// Malformed Packet (2.2.2.2).
	{"MQTT-2.2.2.2", "topic alias in puback", []byte{0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01},
		ErrMalformed, MalformedPacket, "puback: property identifier 0x23 not allowed"},
	{"MQTT-2.2.2.2", "will delay interval in connect properties",
		cat(connect5Head(0x02), []byte{0x05, 0x18, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'c'}),
		ErrMalformed, MalformedPacket, "connect: property identifier 0x18 not allowed"},
	{"MQTT-2.2.2.2", "session expiry in will properties",
		cat(connect5Head(0x06), []byte{0x00, 0x00, 0x01, 'c', 0x05, 0x11, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'w', 0x00, 0x00}),
		ErrMalformed, MalformedPacket, "connect: will: property identifier 0x11 not allowed"},
	{"MQTT-2.2.2.2", "reason string in publish", []byte{0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x1f, 0x00, 0x01, 'r'},
		ErrMalformed, MalformedPacket, "publish: property identifier 0x1f not allowed"},
	{"MQTT-2.2.2.2", "unknown property 0x7f", []byte{0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x7f, 0x00},
		ErrMalformed, MalformedPacket, "publish: property identifier 0x7f not allowed"},
	{"MQTT-2.2.2.2", "authentication data in disconnect",
		[]byte{0xe0, 0x07, 0x00, 0x05, 0x16, 0x00, 0x02, 0x01, 0x02},
		ErrMalformed, MalformedPacket, "disconnect: property identifier 0x16 not allowed"},
	{"MQTT-2.2.2.2", "subscription identifier in unsubscribe",
		[]byte{0xa2, 0x08, 0x00, 0x01, 0x02, 0x0b, 0x01, 0x00, 0x01, 'a'},
		ErrMalformed, MalformedPacket, "unsubscribe: property identifier 0x0b not allowed"},

	// Duplicates: only User Property, and Subscription Identifier in
	// PUBLISH, may repeat (3.3.2.3, 3.8.2.1).
	{"MQTT-3.3.2.3", "payload format indicator twice", []byte{0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x01, 0x00, 0x01, 0x01},
		ErrProtocol, ProtocolError, "publish: payload format indicator more than once"},
	{"MQTT-3.1.2.11", "session expiry interval twice in connect",
		cat(connect5Head(0x02), []byte{0x0a, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2, 0x00, 0x01, 'c'}),
		ErrProtocol, ProtocolError, "connect: session expiry interval more than once"},
	{"MQTT-3.8.2.1", "subscription identifier twice in subscribe",
		[]byte{0x82, 0x0b, 0x00, 0x01, 0x04, 0x0b, 0x01, 0x0b, 0x02, 0x00, 0x01, 'a', 0x00},
		ErrProtocol, ProtocolError, "subscribe: subscription identifier more than once"},
	{"MQTT-3.2.2.3", "reason string twice in connack",
		[]byte{0x20, 0x0b, 0x00, 0x00, 0x08, 0x1f, 0x00, 0x01, 'a', 0x1f, 0x00, 0x01, 'b'},
		ErrProtocol, ProtocolError, "connack: reason string more than once"},

	// Variable byte integers [MQTT-1.5.5].
	{"MQTT-1.5.5", "property length with a fifth byte", []byte{0x30, 0x08, 0x00, 0x01, 't', 0xff, 0xff, 0xff, 0xff, 0x01},
		ErrMalformed, MalformedPacket, "publish: property length: variable byte integer has a fifth byte"},
	{"MQTT-1.5.5", "subscription identifier with a fifth byte",
		[]byte{0x30, 0x0a, 0x00, 0x01, 't', 0x06, 0x0b, 0x80, 0x80, 0x80, 0x80, 0x01},
		ErrMalformed, MalformedPacket, "publish: subscription identifier: variable byte integer has a fifth byte"},
	{"MQTT-1.5.5-1", "non-minimal property length", []byte{0x30, 0x05, 0x00, 0x01, 't', 0x80, 0x00},
		ErrMalformed, MalformedPacket, "publish: property length: variable byte integer of 2 bytes is not minimal"},
	{"MQTT-1.5.5", "property length past the end", []byte{0x30, 0x04, 0x00, 0x01, 't', 0x05},
		ErrMalformed, MalformedPacket, "publish: properties: need 5 bytes"},
	{"MQTT-1.5.5", "truncated variable byte integer", []byte{0x30, 0x04, 0x00, 0x01, 't', 0x80},
		ErrMalformed, MalformedPacket, "publish: property length: need 1 bytes"},

	// Property values.
	{"MQTT-3.3.2.3.8", "subscription identifier 0 in publish", []byte{0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x0b, 0x00},
		ErrProtocol, ProtocolError, "publish: subscription identifier: value 0"},
	{"MQTT-3.8.2.1.2", "subscription identifier 0 in subscribe",
		[]byte{0x82, 0x09, 0x00, 0x01, 0x02, 0x0b, 0x00, 0x00, 0x01, 'a', 0x00},
		ErrProtocol, ProtocolError, "subscribe: subscription identifier: value 0"},
	{"MQTT-3.3.2-8", "topic alias 0", []byte{0x30, 0x07, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x00},
		ErrProtocol, TopicAliasInvalid, "publish: topic alias: value 0"},
	{"MQTT-3.3.2.1", "empty topic name without topic alias", []byte{0x30, 0x03, 0x00, 0x00, 0x00},
		ErrProtocol, ProtocolError, "publish: topic name: empty topic name"},
	{"MQTT-3.3.2-14", "response topic with a wildcard", []byte{0x30, 0x09, 0x00, 0x01, 't', 0x05, 0x08, 0x00, 0x02, 'a', '#'},
		ErrProtocol, ProtocolError, "publish: response topic: wildcard '#'"},
	{"MQTT-3.3.2.3.2", "payload format indicator 2", []byte{0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x01, 0x02},
		ErrProtocol, ProtocolError, "publish: payload format indicator: value 2"},
	{"MQTT-3.1.2.11.3", "receive maximum 0", cat(connect5Head(0x02), []byte{0x03, 0x21, 0x00, 0x00, 0x00, 0x01, 'c'}),
		ErrProtocol, ProtocolError, "connect: receive maximum: value 0"},
	{"MQTT-3.1.2.11.4", "maximum packet size 0", cat(connect5Head(0x02), []byte{0x05, 0x27, 0, 0, 0, 0, 0x00, 0x01, 'c'}),
		ErrProtocol, ProtocolError, "connect: maximum packet size: value 0"},
	{"MQTT-3.1.2.11.7", "request problem information 2", cat(connect5Head(0x02), []byte{0x02, 0x17, 0x02, 0x00, 0x01, 'c'}),
		ErrProtocol, ProtocolError, "connect: request problem information: value 2"},
	{"MQTT-3.2.2.3.4", "maximum qos 2", []byte{0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02},
		ErrProtocol, ProtocolError, "connack: maximum qos: value 2"},
	{"MQTT-3.1.2.11.10", "authentication data without method", cat(connect5Head(0x02), []byte{0x04, 0x16, 0x00, 0x01, 0xaa, 0x00, 0x01, 'c'}),
		ErrProtocol, ProtocolError, "connect: authentication data without authentication method"},
	{"MQTT-1.5.7-1", "user property value not UTF-8", []byte{0x30, 0x0b, 0x00, 0x01, 't', 0x07, 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 0xff},
		ErrMalformed, MalformedPacket, "publish: user property: ill-formed UTF-8"},
	{"MQTT-1.5.4-2", "content type with U+0000", []byte{0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x03, 0x00, 0x01, 0x00},
		ErrMalformed, MalformedPacket, "publish: content type: U+0000"},

	// Reason codes: each packet type has its own set.
	{"MQTT-3.2.2-8", "connack reason 0x01", []byte{0x20, 0x03, 0x00, 0x01, 0x00}, ErrProtocol, ProtocolError, "connack: reason code 0x01 not allowed"},
	{"MQTT-3.2.2-6", "connack session present with an error", []byte{0x20, 0x03, 0x01, 0x80, 0x00},
		ErrProtocol, ProtocolError, "connack: session present with reason code 0x80"},
	{"MQTT-3.4.2-1", "puback reason 0x05", []byte{0x40, 0x03, 0x00, 0x01, 0x05}, ErrProtocol, ProtocolError, "puback: reason code 0x05 not allowed"},
	{"MQTT-3.5.2-1", "pubrec reason 0x92", []byte{0x50, 0x03, 0x00, 0x01, 0x92}, ErrProtocol, ProtocolError, "pubrec: reason code 0x92 not allowed"},
	{"MQTT-3.6.2-1", "pubrel reason 0x10", []byte{0x62, 0x03, 0x00, 0x01, 0x10}, ErrProtocol, ProtocolError, "pubrel: reason code 0x10 not allowed"},
	{"MQTT-3.7.2-1", "pubcomp reason 0x80", []byte{0x70, 0x03, 0x00, 0x01, 0x80}, ErrProtocol, ProtocolError, "pubcomp: reason code 0x80 not allowed"},
	{"MQTT-3.9.3-1", "suback reason 0x03", []byte{0x90, 0x04, 0x00, 0x01, 0x00, 0x03}, ErrProtocol, ProtocolError, "suback: reason code 0x03 not allowed"},
	{"MQTT-3.11.3-1", "unsuback reason 0x01", []byte{0xb0, 0x04, 0x00, 0x01, 0x00, 0x01}, ErrProtocol, ProtocolError, "unsuback: reason code 0x01 not allowed"},
	{"MQTT-3.11.3", "unsuback without reason codes", []byte{0xb0, 0x03, 0x00, 0x01, 0x00}, ErrProtocol, ProtocolError, "unsuback: no return code"},
	{"MQTT-3.14.2-1", "disconnect reason 0x01", []byte{0xe0, 0x01, 0x01}, ErrProtocol, ProtocolError, "disconnect: reason code 0x01 not allowed"},
	{"MQTT-3.15.2-1", "auth reason 0x87", []byte{0xf0, 0x01, 0x87}, ErrProtocol, ProtocolError, "auth: reason code 0x87 not allowed"},
	{"MQTT-3.14.2", "disconnect bytes after the properties", []byte{0xe0, 0x03, 0x00, 0x00, 0x00},
		ErrMalformed, MalformedPacket, "disconnect: 1 unexpected bytes"},
	{"MQTT-3.4.2", "puback property length past the end", []byte{0x40, 0x04, 0x00, 0x01, 0x00, 0x01},
		ErrMalformed, MalformedPacket, "puback: properties: need 1 bytes"},

	// SUBSCRIBE options (3.8.3.1).
	{"MQTT-3.8.3-5", "subscription options reserved bits", []byte{0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x40},
		ErrMalformed, MalformedPacket, "subscribe: reserved subscription option bits"},
	{"MQTT-3.8.3.1", "subscription options qos 3", []byte{0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x03},
		ErrMalformed, MalformedPacket, "subscribe: requested qos 3"},
	{"MQTT-3.8.3.1", "retain handling 3", []byte{0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x30},
		ErrProtocol, ProtocolError, "subscribe: retain handling 3"},
	{"MQTT-3.8.3-4", "no local on a shared subscription",
		cat([]byte{0x82, 0x10, 0x00, 0x01, 0x00, 0x00, 0x0a}, []byte("$share/g/a"), []byte{0x04}),
		ErrProtocol, ProtocolError, "subscribe: no local on shared subscription"},
	{"MQTT-3.8.3-2", "subscribe without filters", []byte{0x82, 0x03, 0x00, 0x01, 0x00},
		ErrProtocol, ProtocolError, "subscribe: no topic filter"},

	// CONNECT.
	{"MQTT-3.1.2-3", "connect reserved flag", cat(connect5Head(0x03), []byte{0x00, 0x00, 0x01, 'c'}),
		ErrMalformed, MalformedPacket, "connect: reserved connect flag set"},
	{"MQTT-3.1.2-11", "will qos without will flag", cat(connect5Head(0x0a), []byte{0x00, 0x00, 0x01, 'c'}),
		ErrMalformed, MalformedPacket, "connect: will qos 1 without will flag"},
}

// connect5Head returns the start of an MQTT 5.0 CONNECT with the given
// connect flags and a keep alive of 0, with a one-byte Remaining Length the
// caller's tail completes: cat(connect5Head(f), tail) has a placeholder
// length, fixed by fixLength.
func connect5Head(flags byte) []byte {
	return []byte{0x10, 0x00, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, flags, 0x00, 0x00}
}

func init() {
	// Fill in the Remaining Length of the rows built with connect5Head.
	for i := range violations5 {
		if w := violations5[i].wire; w[0] == 0x10 && w[1] == 0x00 {
			w[1] = byte(len(w) - 2)
		}
	}
}

func TestV5_Violations(t *testing.T) {
	for _, tt := range violations5 {
		t.Run(tt.spec+"/"+tt.name, func(t *testing.T) {
			p, err := V5.ReadPacket(bytes.NewReader(tt.wire), 0)
			if !errors.Is(err, tt.want) || p != nil {
				t.Fatalf("V5.ReadPacket(% x) = %#v, %v; want %v", tt.wire, p, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "packet: ") {
				t.Fatalf("error %q does not start with \"packet: \" or lacks %q", err, tt.msg)
			}
			if sentinel(err) == nil {
				t.Fatalf("%v does not wrap exactly one sentinel", err)
			}
			if got := Reason(err); got != tt.reason {
				t.Fatalf("Reason(%v) = %#02x %v, want %#02x %v", err, byte(got), got, byte(tt.reason), tt.reason)
			}
			r := NewReader(bytes.NewReader(tt.wire), 0)
			r.SetVersion(V5)
			if _, rerr := r.Read(); rerr == nil || rerr.Error() != err.Error() {
				t.Fatalf("Reader: %v; ReadPacket: %v", rerr, err)
			}
		})
	}
}

// TestAppend_v5Refusals: the encoder refuses what the decoder refuses,
// with the same sentinel and reason code.
func TestAppend_v5Refusals(t *testing.T) {
	for _, tt := range []struct {
		name   string
		p      Packet
		want   error
		reason ReasonCode
		msg    string
	}{
		{"property not allowed", &Puback{PacketID: 1, Props: &Properties{TopicAlias: 1}}, ErrMalformed, MalformedPacket, "puback: topic alias not allowed"},
		{"will property in connect", &Connect{ProtocolName: "MQTT", ProtocolLevel: 5, Props: &Properties{WillDelay: 1}},
			ErrMalformed, MalformedPacket, "connect: will delay interval not allowed"},
		{"two subscription identifiers in subscribe", &Subscribe{PacketID: 1, Props: &Properties{SubscriptionIDs: []uint32{1, 2}},
			Subscriptions: []Subscription{{Filter: "a"}}}, ErrProtocol, ProtocolError, "subscription identifier more than once"},
		{"subscription identifier 0", &Publish{Topic: "t", Props: &Properties{SubscriptionIDs: []uint32{0}}},
			ErrProtocol, ProtocolError, "subscription identifier: value 0"},
		{"subscription identifier too large", &Publish{Topic: "t", Props: &Properties{SubscriptionIDs: []uint32{MaxRemainingLength + 1}}},
			ErrMalformed, MalformedPacket, "subscription identifier: value 268435456 exceeds"},
		{"reason code of another packet", &Pubrel{PacketID: 1, ReasonCode: NoMatchingSubscribers}, ErrProtocol, ProtocolError, "pubrel: reason code 0x10"},
		{"disconnect reason code", &Disconnect{ReasonCode: GrantedQoS1}, ErrProtocol, ProtocolError, "disconnect: reason code 0x01"},
		{"empty topic without alias", &Publish{Props: &Properties{ContentType: "c"}}, ErrProtocol, ProtocolError, "empty topic name"},
		{"retain handling 3", &Subscribe{PacketID: 1, Subscriptions: []Subscription{{Filter: "a", RetainHandling: 3}}},
			ErrProtocol, ProtocolError, "retain handling 3"},
		{"no local shared", &Subscribe{PacketID: 1, Subscriptions: []Subscription{{Filter: "$share/g/a", NoLocal: true}}},
			ErrProtocol, ProtocolError, "no local on shared"},
		{"user property key not UTF-8", &Disconnect{Props: &Properties{User: []UserProperty{{"\xff", "v"}}}},
			ErrMalformed, MalformedPacket, "user property: ill-formed UTF-8"},
		{"unsuback without codes", &Unsuback{PacketID: 1}, ErrProtocol, ProtocolError, "unsuback: no return code"},
		{"maximum qos 2", &Connack{Props: &Properties{MaximumQoS: u8(2)}}, ErrProtocol, ProtocolError, "maximum qos: value 2"},
		{"connack refused in 3.1.1 terms only", &Connack{ReturnCode: RefusedNotAuthorized}, ErrProtocol, ProtocolError,
			"connack: return code 5 with reason code 0x00"},
		{"properties too large", &Publish{Topic: "t", Props: &Properties{User: bigUser}}, ErrTooLarge, PacketTooLarge,
			"publish: properties exceed 268435455 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := V5.Append([]byte{0xaa}, tt.p)
			if !errors.Is(err, tt.want) || !bytes.Equal(b, []byte{0xaa}) {
				t.Fatalf("V5.Append = % x, %v; want %v", b, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) || Reason(err) != tt.reason {
				t.Fatalf("error %q (reason %v), want %q and %v", err, Reason(err), tt.msg, tt.reason)
			}
		})
	}
	if _, err := Append(nil, &Auth{}); !errors.Is(err, ErrProtocol) {
		t.Fatalf("AUTH in MQTT 3.1.1: %v", err)
	}
	if _, err := Append(nil, &Connack{ReasonCode: NotAuthorized}); !errors.Is(err, ErrProtocol) {
		t.Fatalf("CONNACK refused in MQTT 5.0 terms only, sent as 3.1.1: %v", err)
	}
}

// bigUser is 4,100 user properties of 2 × 32 KiB: 268.7 MB of properties,
// sharing one string.
var bigUser = func() []UserProperty {
	s := strings.Repeat("k", 32<<10)
	u := make([]UserProperty, 4100)
	for i := range u {
		u[i] = UserProperty{s, s}
	}
	return u
}()

func TestPublish_CheckPayloadFormat(t *testing.T) {
	p := &Publish{Topic: "t", Payload: []byte("21.5 °C"), Props: &Properties{PayloadFormat: 1}}
	if err := p.CheckPayloadFormat(); err != nil {
		t.Fatalf("UTF-8 payload: %v", err)
	}
	p.Payload = []byte{0xff}
	if err := p.CheckPayloadFormat(); !errors.Is(err, ErrProtocol) || Reason(err) != PayloadFormatInvalid {
		t.Fatalf("0xff payload: %v", err)
	}
	p.Props.PayloadFormat = 0
	if err := p.CheckPayloadFormat(); err != nil {
		t.Fatalf("unspecified bytes: %v", err)
	}
}

func TestPublish_CheckTopicAlias(t *testing.T) {
	p := &Publish{Topic: "t", Props: &Properties{TopicAlias: 5}}
	if err := p.CheckTopicAlias(5); err != nil {
		t.Fatalf("alias 5, maximum 5: %v", err)
	}
	err := p.CheckTopicAlias(4)
	if !errors.Is(err, ErrProtocol) || Reason(err) != TopicAliasInvalid {
		t.Fatalf("alias 5, maximum 4: %v (reason %v)", err, Reason(err))
	}
	if err := (&Publish{Topic: "t"}).CheckTopicAlias(0); err != nil {
		t.Fatalf("no alias: %v", err)
	}
}

func TestReason(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want ReasonCode
	}{
		{nil, Success},
		{ErrMalformed, MalformedPacket},
		{ErrProtocol, ProtocolError},
		{ErrTooLarge, PacketTooLarge},
		{RefusedProtocolVersion, UnsupportedProtocolVersion},
		{errors.New("read: connection reset"), UnspecifiedError},
	} {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if TopicAliasInvalid.String() != "Topic Alias invalid" || TopicAliasInvalid.Error() != "topic alias invalid" ||
		ReasonCode(0x03).String() != "reserved reason code 0x03" {
		t.Errorf("names: %q %q %q", TopicAliasInvalid, TopicAliasInvalid.Error(), ReasonCode(0x03).String())
	}
	if RefusedBadUsernamePassword.ReasonCode() != BadUserNameOrPassword || ConnackCode(9).ReasonCode() != UnspecifiedError {
		t.Errorf("ConnackCode.ReasonCode")
	}
}
