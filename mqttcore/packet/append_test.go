package packet

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// foreign is a Packet this package does not know how to encode.
type foreign struct{}

func (foreign) Type() Type { return PUBLISH }

func TestAppend_Refuses(t *testing.T) {
	big := strings.Repeat("x", 0xffff)
	// 4097 filters of 65535 bytes share one string: a body of
	// 268,505,091 bytes without allocating it.
	huge := make([]string, 4097)
	for i := range huge {
		huge[i] = big
	}
	ok := func(c Connect) *Connect { // a valid CONNECT, changed by the caller
		c.ProtocolName, c.ProtocolLevel = "MQTT", 4
		return &c
	}
	tests := []struct {
		name string
		p    Packet
		want error
		msg  string
	}{
		{"nil interface", nil, ErrProtocol, "cannot encode <nil>"},
		{"foreign type", foreign{}, ErrProtocol, "cannot encode packet.foreign"},
		{"nil *Publish", (*Publish)(nil), ErrProtocol, "publish: nil packet"},
		{"nil *Connect", (*Connect)(nil), ErrProtocol, "connect: nil packet"},
		{"nil *Subscribe", (*Subscribe)(nil), ErrProtocol, "subscribe: nil packet"},
		{"nil *Puback", (*Puback)(nil), ErrProtocol, "puback: nil packet"},

		{"publish qos 3", &Publish{QoS: 3, Topic: "t", PacketID: 1}, ErrMalformed, "publish: qos 3"},
		{"publish qos 4", &Publish{QoS: 4, Topic: "t", PacketID: 1}, ErrMalformed, "publish: qos 4"},
		{"publish qos 1 id 0", &Publish{QoS: 1, Topic: "t"}, ErrProtocol, "publish: packet identifier 0"},
		{"publish qos 0 with id", &Publish{Topic: "t", PacketID: 5}, ErrProtocol, "packet identifier 5 with qos 0"},
		{"publish dup qos 0", &Publish{Dup: true, Topic: "t"}, ErrMalformed, "dup flag with qos 0"},
		{"publish empty topic", &Publish{Topic: ""}, ErrProtocol, "empty topic name"},
		{"publish topic +", &Publish{Topic: "a/+/b"}, ErrProtocol, "wildcard '+'"},
		{"publish topic #", &Publish{Topic: "a/#"}, ErrProtocol, "wildcard '#'"},
		{"publish topic U+0000", &Publish{Topic: "a\x00"}, ErrMalformed, "U+0000"},
		{"publish topic surrogate", &Publish{Topic: "\xed\xb0\x80"}, ErrMalformed, "surrogate"},
		{"publish topic not UTF-8", &Publish{Topic: "\xff"}, ErrMalformed, "ill-formed"},
		{"publish topic of 65536 bytes", &Publish{Topic: big + "x"}, ErrMalformed, "65536 bytes exceeds 65535"},

		{"connect no protocol name", &Connect{ClientID: "c"}, ErrProtocol, `protocol name ""`},
		{"connect protocol name MQTT3", &Connect{ProtocolName: "MQTT3", ProtocolLevel: 4}, ErrProtocol, `protocol name "MQTT3"`},
		{"connect will qos 3", ok(Connect{WillFlag: true, WillQoS: 3, WillTopic: "w"}), ErrMalformed, "will qos 3"},
		{"connect will qos 9", ok(Connect{WillFlag: true, WillQoS: 9, WillTopic: "w"}), ErrMalformed, "will qos 3"},
		{"connect will qos without will", ok(Connect{WillQoS: 1}), ErrMalformed, "will qos 1 without will flag"},
		{"connect will retain without will", ok(Connect{WillRetain: true}), ErrMalformed, "will retain without will flag"},
		{"connect will topic without will", ok(Connect{WillTopic: "w"}), ErrProtocol, "without will flag"},
		{"connect will message without will", ok(Connect{WillMessage: []byte("m")}), ErrProtocol, "without will flag"},
		{"connect empty will topic", ok(Connect{WillFlag: true}), ErrProtocol, "will topic: empty topic name"},
		{"connect will topic wildcard", ok(Connect{WillFlag: true, WillTopic: "+"}), ErrProtocol, "will topic: wildcard"},
		{"connect will message 65536 bytes", ok(Connect{WillFlag: true, WillTopic: "w", WillMessage: []byte(big + "x")}), ErrMalformed, "will message: binary data of 65536 bytes"},
		{"connect user name without flag", ok(Connect{Username: "u"}), ErrProtocol, "user name without user name flag"},
		{"connect password flag without user name flag", ok(Connect{PasswordFlag: true, Password: []byte("p")}), ErrMalformed, "password flag without user name flag"},
		{"connect password without flag", ok(Connect{UsernameFlag: true, Username: "u", Password: []byte("p")}), ErrProtocol, "password without password flag"},
		{"connect password 65536 bytes", ok(Connect{UsernameFlag: true, PasswordFlag: true, Password: []byte(big + "x")}), ErrMalformed, "password: binary data"},
		{"connect client id not UTF-8", ok(Connect{ClientID: "\xc3"}), ErrMalformed, "client identifier: ill-formed"},
		{"connect client id 65536 bytes", ok(Connect{ClientID: big + "x"}), ErrMalformed, "client identifier: string of 65536 bytes"},
		{"connect user name U+0000", ok(Connect{UsernameFlag: true, Username: "\x00"}), ErrMalformed, "user name: U+0000"},

		{"connack return code 6", &Connack{ReturnCode: 6}, ErrProtocol, "reserved return code 6"},
		{"connack session present with refusal", &Connack{SessionPresent: true, ReturnCode: RefusedNotAuthorized}, ErrProtocol, "session present"},

		{"puback id 0", &Puback{}, ErrProtocol, "puback: packet identifier 0"},
		{"pubrec id 0", &Pubrec{}, ErrProtocol, "pubrec: packet identifier 0"},
		{"pubrel id 0", &Pubrel{}, ErrProtocol, "pubrel: packet identifier 0"},
		{"pubcomp id 0", &Pubcomp{}, ErrProtocol, "pubcomp: packet identifier 0"},
		{"unsuback id 0", &Unsuback{}, ErrProtocol, "unsuback: packet identifier 0"},

		{"subscribe id 0", &Subscribe{Subscriptions: []Subscription{{Filter: "a", QoS: 0}}}, ErrProtocol, "subscribe: packet identifier 0"},
		{"subscribe no filter", &Subscribe{PacketID: 1}, ErrProtocol, "subscribe: no topic filter"},
		{"subscribe qos 3", &Subscribe{PacketID: 1, Subscriptions: []Subscription{{Filter: "a", QoS: 0}, {Filter: "b", QoS: 3}}}, ErrMalformed, "subscribe: requested qos 3"},
		{"subscribe empty filter", &Subscribe{PacketID: 1, Subscriptions: []Subscription{{Filter: "", QoS: 0}}}, ErrProtocol, "empty topic filter"},
		{"subscribe filter not UTF-8", &Subscribe{PacketID: 1, Subscriptions: []Subscription{{Filter: "\x80", QoS: 0}}}, ErrMalformed, "topic filter: ill-formed"},

		{"suback id 0", &Suback{ReturnCodes: []byte{0}}, ErrProtocol, "suback: packet identifier 0"},
		{"suback no code", &Suback{PacketID: 1}, ErrProtocol, "suback: no return code"},
		{"suback code 3", &Suback{PacketID: 1, ReturnCodes: []byte{0, 3}}, ErrProtocol, "reserved return code 0x03"},

		{"unsubscribe id 0", &Unsubscribe{Filters: []string{"a"}}, ErrProtocol, "unsubscribe: packet identifier 0"},
		{"unsubscribe no filter", &Unsubscribe{PacketID: 1}, ErrProtocol, "unsubscribe: no topic filter"},
		{"unsubscribe empty filter", &Unsubscribe{PacketID: 1, Filters: []string{"a", ""}}, ErrProtocol, "empty topic filter"},
		{"unsubscribe filter U+0000", &Unsubscribe{PacketID: 1, Filters: []string{"\x00"}}, ErrMalformed, "U+0000"},
		{"unsubscribe body over 268435455 bytes", &Unsubscribe{PacketID: 1, Filters: huge}, ErrTooLarge, "unsubscribe: body of 268505091 bytes exceeds 268435455"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := Append(dst, tt.p)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "packet: ") {
				t.Fatalf("Append = %v; want %v containing %q", err, tt.want, tt.msg)
			}
			if !bytes.Equal(got, []byte("keep")) {
				t.Fatalf("dst changed on error: %q", got)
			}
		})
	}
}

// TestAppend_UnsupportedLevel checks the one leniency of the encoder: any
// protocol level, so tests can provoke CONNACK 0x01, which Decode reports.
func TestAppend_UnsupportedLevel(t *testing.T) {
	b, err := Append(nil, &Connect{ProtocolName: "MQTT", ProtocolLevel: 5, CleanSession: true, ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ReadPacket(bytes.NewReader(b), 0)
	if err != RefusedProtocolVersion { //nolint:errorlint
		t.Fatalf("err = %v", err)
	}
	if c := p.(*Connect); c.ProtocolLevel != 5 {
		t.Fatalf("level %d", c.ProtocolLevel)
	}
}

// TestAppend_RemainingLengthBoundaries encodes publishes whose body sits on
// each boundary of the Remaining Length encoding and reads them back.
func TestAppend_RemainingLengthBoundaries(t *testing.T) {
	tests := []struct {
		body int
		enc  []byte
	}{
		{3, []byte{0x03}},
		{127, []byte{0x7f}},
		{128, []byte{0x80, 0x01}},
		{16_383, []byte{0xff, 0x7f}},
		{16_384, []byte{0x80, 0x80, 0x01}},
		{2_097_151, []byte{0xff, 0xff, 0x7f}},
		{2_097_152, []byte{0x80, 0x80, 0x80, 0x01}},
	}
	for _, tt := range tests {
		p := &Publish{Topic: "t", Payload: bytes.Repeat([]byte{'p'}, tt.body-3)}
		b, err := Append(nil, p)
		if err != nil {
			t.Fatalf("%d: %v", tt.body, err)
		}
		if !bytes.Equal(b[1:1+len(tt.enc)], tt.enc) || len(b) != 1+len(tt.enc)+tt.body || remainingSize(tt.body) != len(tt.enc) {
			t.Fatalf("%d: header % x", tt.body, b[:1+len(tt.enc)])
		}
		got, err := ReadPacket(bytes.NewReader(b), 0)
		if err != nil || !bytes.Equal(got.(*Publish).Payload, p.Payload) {
			t.Fatalf("%d: read back: %v", tt.body, err)
		}
	}
	if got := appendRemaining(nil, MaxRemainingLength); !bytes.Equal(got, []byte{0xff, 0xff, 0xff, 0x7f}) {
		t.Fatalf("MaxRemainingLength encodes as % x", got)
	}
}

func TestType_String(t *testing.T) {
	if PUBLISH.String() != "PUBLISH" || DISCONNECT.String() != "DISCONNECT" || Type(0).String() != "reserved(0)" || AUTH.String() != "AUTH" || Type(16).String() != "reserved(16)" {
		t.Fatal(PUBLISH, DISCONNECT, Type(0), AUTH, Type(16))
	}
	for _, g := range goldens {
		if g.want.Type() != Type(g.wire[0]>>4) {
			t.Errorf("%s: Type() = %v, wire says %v", g.name, g.want.Type(), Type(g.wire[0]>>4))
		}
	}
}
