package packet

import (
	"bytes"
	"reflect"
	"testing"
)

// u32, u16, u8 and flag return pointers for the optional properties.
func u32(v uint32) *uint32 { return &v }
func u16(v uint16) *uint16 { return &v }
func u8(v byte) *byte      { return &v }
func flag(v bool) *bool    { return &v }

// goldens5 covers every MQTT 5.0 packet type and its short forms. Properties
// are laid out in the encoder's canonical order: single-valued ones by
// identifier, then Subscription Identifiers, then User Properties.
var goldens5 = []golden{
	{
		name: "connect/minimal",
		wire: []byte{
			0x10, 0x0f, // CONNECT; remaining length 15
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x02,       // connect flags: clean start
			0x00, 0x3c, // keep alive 60 s
			0x00,                 // property length 0
			0x00, 0x02, 'c', '1', // client identifier "c1"
		},
		want: &Connect{ProtocolName: "MQTT", ProtocolLevel: 5, CleanSession: true, KeepAlive: 60, ClientID: "c1"},
	},
	{
		name: "connect/properties, will properties, password without user name",
		wire: []byte{
			0x10, 0x32, // CONNECT; remaining length 50
			0x00, 0x04, 'M', 'Q', 'T', 'T', // "MQTT"
			0x05,       // level 5
			0x4e,       // flags 0100_1110: password, will qos 01, will, clean start (no user name: allowed in 5.0)
			0x00, 0x0a, // keep alive 10 s
			0x0d,                         // property length 13
			0x11, 0x00, 0x00, 0x0e, 0x10, // session expiry interval 3600 s
			0x21, 0x00, 0x14, // receive maximum 20
			0x27, 0x00, 0x01, 0x00, 0x00, // maximum packet size 65536
			0x00, 0x01, 'd', // client identifier "d"
			0x0b,       // will property length 11
			0x01, 0x01, // payload format indicator 1: UTF-8
			0x03, 0x00, 0x01, 't', // content type "t"
			0x18, 0x00, 0x00, 0x00, 0x05, // will delay interval 5 s
			0x00, 0x01, 'w', // will topic "w"
			0x00, 0x02, 'o', 'k', // will payload "ok"
			0x00, 0x02, 'p', 'w', // password "pw"
		},
		want: &Connect{ProtocolName: "MQTT", ProtocolLevel: 5, CleanSession: true, KeepAlive: 10, ClientID: "d",
			Props:    &Properties{SessionExpiry: u32(3600), ReceiveMaximum: 20, MaximumPacketSize: 65536},
			WillFlag: true, WillQoS: 1, WillTopic: "w", WillMessage: []byte("ok"),
			WillProps:    &Properties{PayloadFormat: 1, ContentType: "t", WillDelay: 5},
			PasswordFlag: true, Password: []byte("pw")},
	},
	{
		name: "connect/user name, authentication, problem information off, user property",
		wire: []byte{
			0x10, 0x29, // CONNECT; remaining length 41
			0x00, 0x04, 'M', 'Q', 'T', 'T', // "MQTT"
			0x05,       // level 5
			0x80,       // flags 1000_0000: user name
			0x00, 0x00, // keep alive 0
			0x18,                  // property length 24
			0x15, 0x00, 0x01, 'x', // authentication method "x"
			0x16, 0x00, 0x02, 0x01, 0x02, // authentication data 01 02
			0x17, 0x00, // request problem information 0
			0x19, 0x01, // request response information 1
			0x22, 0x00, 0x08, // topic alias maximum 8
			0x26, 0x00, 0x01, 'k', 0x00, 0x02, 'v', '1', // user property "k" = "v1"
			0x00, 0x00, // client identifier ""
			0x00, 0x02, 'u', 's', // user name "us"
		},
		want: &Connect{ProtocolName: "MQTT", ProtocolLevel: 5, ClientID: "", UsernameFlag: true, Username: "us",
			Props: &Properties{AuthMethod: "x", AuthData: []byte{1, 2}, RequestProblemInfo: flag(false),
				RequestResponseInfo: true, TopicAliasMaximum: 8, User: []UserProperty{{"k", "v1"}}}},
	},
	{
		name: "connack/minimal",
		wire: []byte{0x20, 0x03, // CONNACK; remaining length 3
			0x00, // acknowledge flags: none
			0x00, // reason code 0x00: success
			0x00, // property length 0
		},
		want: &Connack{},
	},
	{
		name: "connack/session present, server capabilities",
		wire: []byte{
			0x20, 0x1a, // CONNACK; remaining length 26
			0x01,                            // session present
			0x00,                            // success
			0x17,                            // property length 23
			0x12, 0x00, 0x03, 'a', 'b', 'c', // assigned client identifier "abc"
			0x13, 0x00, 0x1e, // server keep alive 30 s
			0x21, 0x00, 0x0a, // receive maximum 10
			0x22, 0x00, 0x05, // topic alias maximum 5
			0x24, 0x01, // maximum qos 1
			0x25, 0x00, // retain available 0
			0x28, 0x00, // wildcard subscription available 0
			0x2a, 0x01, // shared subscription available 1
		},
		want: &Connack{SessionPresent: true, Props: &Properties{AssignedClientID: "abc", ServerKeepAlive: u16(30),
			ReceiveMaximum: 10, TopicAliasMaximum: 5, MaximumQoS: u8(1), RetainAvailable: flag(false),
			WildcardSubAvailable: flag(false), SharedSubAvailable: flag(true)}},
	},
	{
		name: "connack/not authorized, reason string",
		wire: []byte{
			0x20, 0x08, // CONNACK; remaining length 8
			0x00,                       // acknowledge flags: none
			0x87,                       // reason code 0x87: not authorized
			0x05,                       // property length 5
			0x1f, 0x00, 0x02, 'n', 'o', // reason string "no"
		},
		want: &Connack{ReasonCode: NotAuthorized, Props: &Properties{ReasonString: "no"}},
	},
	{
		name: "publish/qos 0, no properties",
		wire: []byte{
			0x30, 0x06, // PUBLISH qos 0; remaining length 6
			0x00, 0x01, 't', // topic name "t"
			0x00,     // property length 0
			'h', 'i', // payload "hi"
		},
		want: &Publish{Topic: "t", Payload: []byte("hi")},
	},
	{
		name: "publish/qos 1, message properties, two subscription identifiers",
		wire: []byte{
			0x32, 0x2f, // PUBLISH, flags 0010: qos 1; remaining length 47
			0x00, 0x03, 'a', '/', 'b', // topic name "a/b"
			0x00, 0x07, // packet identifier 7
			0x25,       // property length 37
			0x01, 0x01, // payload format indicator 1
			0x02, 0x00, 0x00, 0x00, 0x3c, // message expiry interval 60 s
			0x03, 0x00, 0x04, 't', 'e', 'x', 't', // content type "text"
			0x08, 0x00, 0x03, 'r', '/', '1', // response topic "r/1"
			0x09, 0x00, 0x02, 0xca, 0xfe, // correlation data ca fe
			0x0b, 0x81, 0x01, // subscription identifier 129 (two-byte variable byte integer)
			0x0b, 0x02, // subscription identifier 2
			0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v', // user property "k" = "v"
			'h', 'i', // payload "hi"
		},
		want: &Publish{QoS: 1, Topic: "a/b", PacketID: 7, Payload: []byte("hi"), Props: &Properties{
			PayloadFormat: 1, MessageExpiry: 60, ContentType: "text", ResponseTopic: "r/1",
			CorrelationData: []byte{0xca, 0xfe}, SubscriptionIDs: []uint32{129, 2}, User: []UserProperty{{"k", "v"}}}},
	},
	{
		name: "publish/empty topic name with a topic alias",
		wire: []byte{
			0x30, 0x07, // PUBLISH qos 0; remaining length 7
			0x00, 0x00, // topic name "": the alias stands for it
			0x03,             // property length 3
			0x23, 0x00, 0x05, // topic alias 5
			'x', // payload "x"
		},
		want: &Publish{Payload: []byte("x"), Props: &Properties{TopicAlias: 5}},
	},
	{
		name: "puback/short form: success, no properties",
		wire: []byte{0x40, 0x02, // PUBACK; remaining length 2
			0x00, 0x01, // packet identifier 1
		},
		want: &Puback{PacketID: 1},
	},
	{
		name: "puback/reason code without properties",
		wire: []byte{0x40, 0x03, // PUBACK; remaining length 3
			0x00, 0x02, // packet identifier 2
			0x10, // reason code 0x10: no matching subscribers
		},
		want: &Puback{PacketID: 2, ReasonCode: NoMatchingSubscribers},
	},
	{
		name: "pubrec/quota exceeded, reason string",
		wire: []byte{0x50, 0x08, // PUBREC; remaining length 8
			0x00, 0x03, // packet identifier 3
			0x97,                  // reason code 0x97: quota exceeded
			0x04,                  // property length 4
			0x1f, 0x00, 0x01, 'q', // reason string "q"
		},
		want: &Pubrec{PacketID: 3, ReasonCode: QuotaExceeded, Props: &Properties{ReasonString: "q"}},
	},
	{
		name: "pubrel/packet identifier not found",
		wire: []byte{0x62, 0x03, // PUBREL, flags 0010; remaining length 3
			0x00, 0x04, // packet identifier 4
			0x92, // reason code 0x92: packet identifier not found
		},
		want: &Pubrel{PacketID: 4, ReasonCode: PacketIdentifierNotFound},
	},
	{
		name: "pubcomp/success with two user properties (User Property repeats)",
		wire: []byte{0x70, 0x12, // PUBCOMP; remaining length 18
			0x00, 0x05, // packet identifier 5
			0x00,                                   // reason code 0x00: success
			0x0e,                                   // property length 14
			0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b', // user property "a" = "b"
			0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'c', // user property "a" = "c" (same key again)
		},
		want: &Pubcomp{PacketID: 5, Props: &Properties{User: []UserProperty{{"a", "b"}, {"a", "c"}}}},
	},
	{
		name: "subscribe/subscription identifier and options",
		wire: []byte{
			0x82, 0x0f, // SUBSCRIBE, flags 0010; remaining length 15
			0x00, 0x0a, // packet identifier 10
			0x02,       // property length 2
			0x0b, 0x07, // subscription identifier 7
			0x00, 0x03, 'a', '/', '#', // topic filter "a/#"
			0x2d,            // options 0010_1101: retain handling 2, retain as published, no local, qos 1
			0x00, 0x01, 'b', // topic filter "b"
			0x10, // options 0001_0000: retain handling 1, qos 0
		},
		want: &Subscribe{PacketID: 10, Props: &Properties{SubscriptionIDs: []uint32{7}}, Subscriptions: []Subscription{
			{Filter: "a/#", QoS: 1, NoLocal: true, RetainAsPublished: true, RetainHandling: 2},
			{Filter: "b", RetainHandling: 1}}},
	},
	{
		name: "suback/granted and refused",
		wire: []byte{0x90, 0x06, // SUBACK; remaining length 6
			0x00, 0x0a, // packet identifier 10
			0x00, // property length 0
			0x01, // granted qos 1
			0x87, // not authorized
			0xa2, // wildcard subscriptions not supported
		},
		want: &Suback{PacketID: 10, ReturnCodes: []byte{0x01, 0x87, 0xa2}},
	},
	{
		name: "unsubscribe/one filter",
		wire: []byte{0xa2, 0x06, // UNSUBSCRIBE, flags 0010; remaining length 6
			0x00, 0x0b, // packet identifier 11
			0x00,            // property length 0
			0x00, 0x01, 'a', // topic filter "a"
		},
		want: &Unsubscribe{PacketID: 11, Filters: []string{"a"}},
	},
	{
		name: "unsuback/reason string, two reason codes",
		wire: []byte{0xb0, 0x09, // UNSUBACK; remaining length 9
			0x00, 0x0b, // packet identifier 11
			0x04,                  // property length 4
			0x1f, 0x00, 0x01, 'r', // reason string "r"
			0x00, // success
			0x11, // no subscription existed
		},
		want: &Unsuback{PacketID: 11, ReasonCodes: []byte{0x00, 0x11}, Props: &Properties{ReasonString: "r"}},
	},
	{name: "pingreq", wire: []byte{0xc0, 0x00}, want: &Pingreq{}},
	{name: "pingresp", wire: []byte{0xd0, 0x00}, want: &Pingresp{}},
	{
		name: "disconnect/short form: normal disconnection",
		wire: []byte{0xe0, 0x00}, // DISCONNECT; remaining length 0
		want: &Disconnect{},
	},
	{
		name: "disconnect/with will message, no properties",
		wire: []byte{0xe0, 0x01, // DISCONNECT; remaining length 1
			0x04, // reason code 0x04: disconnect with will message
		},
		want: &Disconnect{ReasonCode: DisconnectWithWillMessage},
	},
	{
		name: "disconnect/session taken over, session expiry 0, server reference",
		wire: []byte{0xe0, 0x0b, // DISCONNECT; remaining length 11
			0x8e,                         // reason code 0x8e: session taken over
			0x09,                         // property length 9
			0x11, 0x00, 0x00, 0x00, 0x00, // session expiry interval 0 (present: not the same as absent)
			0x1c, 0x00, 0x01, 's', // server reference "s"
		},
		want: &Disconnect{ReasonCode: SessionTakenOver, Props: &Properties{SessionExpiry: u32(0), ServerReference: "s"}},
	},
	{
		name: "auth/short form: success",
		wire: []byte{0xf0, 0x00}, // AUTH; remaining length 0
		want: &Auth{},
	},
	{
		name: "auth/continue authentication",
		wire: []byte{0xf0, 0x0b, // AUTH; remaining length 11
			0x18,                  // reason code 0x18: continue authentication
			0x09,                  // property length 9
			0x15, 0x00, 0x01, 'x', // authentication method "x"
			0x16, 0x00, 0x02, 0x03, 0x04, // authentication data 03 04
		},
		want: &Auth{ReasonCode: ContinueAuthentication, Props: &Properties{AuthMethod: "x", AuthData: []byte{3, 4}}},
	},
}

func TestV5_goldens(t *testing.T) {
	for _, g := range goldens5 {
		t.Run(g.name, func(t *testing.T) {
			enc, err := V5.Append(nil, g.want)
			if err != nil {
				t.Fatalf("V5.Append: %v", err)
			}
			if !bytes.Equal(enc, g.wire) {
				t.Fatalf("V5.Append\n got % x\nwant % x", enc, g.wire)
			}
			h, body := splitGolden(t, g.wire)
			got, err := V5.Decode(h, body)
			if err != nil {
				t.Fatalf("V5.Decode: %v", err)
			}
			if !reflect.DeepEqual(got, g.want) {
				t.Fatalf("V5.Decode\n got %#v\nwant %#v", got, g.want)
			}
		})
	}
}

// TestV5_explicitZeroProperty: properties that only repeat what absence
// means decode to nil Properties, so that decode → encode → decode is stable
// (found by FuzzDecodeV5).
func TestV5_explicitZeroProperty(t *testing.T) {
	wire := []byte{0x30, 0x07, // PUBLISH qos 0; remaining length 7
		0x00, 0x01, 't', // topic name "t"
		0x02,       // property length 2
		0x01, 0x00, // payload format indicator 0: what its absence means
		'x', // payload "x"
	}
	p, err := V5.ReadPacket(bytes.NewReader(wire), 0)
	if want := (&Publish{Topic: "t", Payload: []byte("x")}); err != nil || !reflect.DeepEqual(p, want) {
		t.Fatalf("got %#v, %v; want %#v", p, err, want)
	}
}

// TestReader_SetVersion reads the v5 goldens as one stream, after a 3.1.1
// packet read before SetVersion.
func TestReader_SetVersion(t *testing.T) {
	wire := goldenWire("pingreq")
	for _, g := range goldens5 {
		wire = append(wire, g.wire...)
	}
	r := NewReader(&chunkReader{data: wire, sizes: []byte{3}}, 0)
	if p, err := r.Read(); err != nil || p.Type() != PINGREQ {
		t.Fatalf("first packet: %v, %v", p, err)
	}
	r.SetVersion(V5)
	for _, g := range goldens5 {
		p, err := r.Read()
		if err != nil || !reflect.DeepEqual(p, g.want) {
			t.Fatalf("%s: %#v, %v", g.name, p, err)
		}
	}
}

// TestVersion_Decode_connectLevels: a CONNECT is decoded by its own level;
// the decoder's version is the highest it accepts.
func TestVersion_Decode_connectLevels(t *testing.T) {
	v311 := goldenWire("connect/minimal")
	v31 := goldenWire("connect/mqtt 3.1 MQIsdp level 3")
	v5 := goldens5[0].wire
	for _, tt := range []struct {
		name    string
		v       Version
		wire    []byte
		refused bool
	}{
		{"V311 decodes 3.1.1", V311, v311, false},
		{"V311 decodes 3.1", V311, v31, false},
		{"V311 refuses 5.0", V311, v5, true},
		{"V5 decodes 5.0", V5, v5, false},
		{"V5 decodes 3.1.1 in its layout", V5, v311, false},
		{"V5 decodes 3.1", V5, v31, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, body := splitGolden(t, tt.wire)
			p, err := tt.v.Decode(h, body)
			c, _ := p.(*Connect)
			if tt.refused {
				if err != RefusedProtocolVersion || c == nil || c.ProtocolLevel != 5 || Reason(err) != UnsupportedProtocolVersion { //nolint:errorlint
					t.Fatalf("got %#v, %v", p, err)
				}
				return
			}
			if err != nil || c == nil {
				t.Fatalf("got %#v, %v", p, err)
			}
			if enc, _ := Append(nil, c); !bytes.Equal(enc, tt.wire) {
				t.Fatalf("re-encoded as % x", enc)
			}
		})
	}
}

// TestAppend_v5FieldsDropped: a packet built for an MQTT 5.0 peer encodes
// for a 3.1.1 peer without its MQTT 5.0 fields.
func TestAppend_v5FieldsDropped(t *testing.T) {
	for _, tt := range []struct {
		p    Packet
		want []byte
	}{
		{&Publish{Topic: "t", Payload: []byte("x"), Props: &Properties{ContentType: "c", User: []UserProperty{{"k", "v"}}}},
			[]byte{0x30, 0x04, 0x00, 0x01, 't', 'x'}},
		{&Puback{PacketID: 1, ReasonCode: NoMatchingSubscribers, Props: &Properties{ReasonString: "r"}},
			[]byte{0x40, 0x02, 0x00, 0x01}},
		{&Subscribe{PacketID: 1, Subscriptions: []Subscription{{Filter: "a", QoS: 1, NoLocal: true, RetainHandling: 2}}},
			[]byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x01}},
		{&Disconnect{ReasonCode: ServerShuttingDown}, []byte{0xe0, 0x00}},
		{&Unsuback{PacketID: 2, ReasonCodes: []byte{0x11}}, []byte{0xb0, 0x02, 0x00, 0x02}},
		{&Connack{ReturnCode: RefusedNotAuthorized, ReasonCode: NotAuthorized}, []byte{0x20, 0x02, 0x00, 0x05}},
	} {
		got, err := Append(nil, tt.p)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("Append(%#v) = % x, %v; want % x", tt.p, got, err, tt.want)
		}
	}
}
