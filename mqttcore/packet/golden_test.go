package packet

import (
	"bytes"
	"reflect"
	"testing"
)

// golden is one packet on the wire, annotated byte by byte, next to the
// struct it decodes to. Append(nil, want) must give exactly wire.
type golden struct {
	name string
	wire []byte
	want Packet
}

// cat concatenates byte slices; it keeps long golden rows readable.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// goldens covers every packet type and its variants.
var goldens = []golden{
	{
		name: "connect/minimal",
		wire: []byte{
			0x10, 0x0e, // CONNECT, flags 0; remaining length 14
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0x02,       // connect flags: clean session
			0x00, 0x3c, // keep alive 60 s
			0x00, 0x02, 'c', '1', // client identifier "c1"
		},
		want: &Connect{ProtocolName: "MQTT", ProtocolLevel: 4, CleanSession: true, KeepAlive: 60, ClientID: "c1"},
	},
	{
		name: "connect/empty client id, no clean session, keep alive 0",
		wire: []byte{
			0x10, 0x0c, // CONNECT; remaining length 12
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // level 4
			0x00,       // connect flags: none
			0x00, 0x00, // keep alive 0 (disabled)
			0x00, 0x00, // client identifier "" (the broker decides [MQTT-3.1.3-8])
		},
		want: &Connect{ProtocolName: "MQTT", ProtocolLevel: 4},
	},
	{
		name: "connect/will qos 1 retain, user name, password",
		wire: []byte{
			0x10, 0x2b, // CONNECT; remaining length 43
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // level 4
			0xee,       // flags 1110_1110: user name, password, will retain, will qos 01, will, clean session
			0xff, 0xff, // keep alive 65535 s
			0x00, 0x03, 'd', 'e', 'v', // client identifier "dev"
			0x00, 0x08, 'd', 'e', 'v', '/', 'l', 'w', 't', '1', // will topic "dev/lwt1"
			0x00, 0x04, 'g', 'o', 'n', 'e', // will message "gone"
			0x00, 0x05, 'a', 'l', 'i', 'c', 'e', // user name "alice"
			0x00, 0x03, 0x00, 0xff, 0x01, // password: binary 00 ff 01
		},
		want: &Connect{ProtocolName: "MQTT", ProtocolLevel: 4, CleanSession: true, KeepAlive: 65535, ClientID: "dev",
			WillFlag: true, WillQoS: 1, WillRetain: true, WillTopic: "dev/lwt1", WillMessage: []byte("gone"),
			UsernameFlag: true, Username: "alice", PasswordFlag: true, Password: []byte{0x00, 0xff, 0x01}},
	},
	{
		name: "connect/will qos 2, empty will message, user name without password",
		wire: []byte{
			0x10, 0x16, // CONNECT; remaining length 22
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // level 4
			0x94,       // flags 1001_0100: user name, will qos 10, will
			0x00, 0x0a, // keep alive 10 s
			0x00, 0x01, 'x', // client identifier "x"
			0x00, 0x01, 'w', // will topic "w"
			0x00, 0x00, // will message: empty
			0x00, 0x02, 'u', '1', // user name "u1"
		},
		want: &Connect{ProtocolName: "MQTT", ProtocolLevel: 4, KeepAlive: 10, ClientID: "x",
			WillFlag: true, WillQoS: 2, WillTopic: "w", UsernameFlag: true, Username: "u1"},
	},
	{
		name: "connect/mqtt 3.1 MQIsdp level 3",
		wire: []byte{
			0x10, 0x12, // CONNECT; remaining length 18
			0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', // protocol name "MQIsdp"
			0x03,       // level 3
			0x02,       // clean session
			0x00, 0x1e, // keep alive 30 s
			0x00, 0x04, 'o', 'l', 'd', '1', // client identifier "old1"
		},
		want: &Connect{ProtocolName: "MQIsdp", ProtocolLevel: 3, CleanSession: true, KeepAlive: 30, ClientID: "old1"},
	},
	{
		name: "connect/empty user name and empty password",
		wire: []byte{
			0x10, 0x11, // CONNECT; remaining length 17
			0x00, 0x04, 'M', 'Q', 'T', 'T', // "MQTT"
			0x04,       // level 4
			0xc2,       // flags 1100_0010: user name, password, clean session
			0x00, 0x05, // keep alive 5 s
			0x00, 0x01, 'c', // client identifier "c"
			0x00, 0x00, // user name ""
			0x00, 0x00, // password: empty (decodes to nil)
		},
		want: &Connect{ProtocolName: "MQTT", ProtocolLevel: 4, CleanSession: true, KeepAlive: 5, ClientID: "c",
			UsernameFlag: true, PasswordFlag: true},
	},
	{
		name: "connack/accepted, session present",
		wire: []byte{
			0x20, 0x02, // CONNACK; remaining length 2
			0x01, // acknowledge flags: session present
			0x00, // return code 0: accepted
		},
		want: &Connack{SessionPresent: true},
	},
	{
		name: "connack/accepted, no session",
		wire: []byte{0x20, 0x02, // CONNACK; remaining length 2
			0x00, // acknowledge flags: none
			0x00, // accepted
		},
		want: &Connack{},
	},
	{
		name: "connack/refused protocol version",
		wire: []byte{0x20, 0x02, // CONNACK; remaining length 2
			0x00, // acknowledge flags: none
			0x01, // return code 1: unacceptable protocol version
		},
		want: &Connack{ReturnCode: RefusedProtocolVersion},
	},
	{
		name: "connack/not authorized",
		wire: []byte{0x20, 0x02, // CONNACK; remaining length 2
			0x00, // acknowledge flags: none
			0x05, // return code 5: not authorized
		},
		want: &Connack{ReturnCode: RefusedNotAuthorized},
	},
	{
		name: "publish/qos 0",
		wire: []byte{
			0x30, 0x0a, // PUBLISH, flags 0000: qos 0; remaining length 10
			0x00, 0x03, 'a', '/', 'b', // topic name "a/b"
			'h', 'e', 'l', 'l', 'o', // payload "hello" (no packet identifier at qos 0)
		},
		want: &Publish{Topic: "a/b", Payload: []byte("hello")},
	},
	{
		name: "publish/qos 1 retain",
		wire: []byte{
			0x33, 0x07, // PUBLISH, flags 0011: qos 1, retain; remaining length 7
			0x00, 0x01, 't', // topic name "t"
			0x12, 0x34, // packet identifier 0x1234
			'4', '2', // payload "42"
		},
		want: &Publish{QoS: 1, Retain: true, Topic: "t", PacketID: 0x1234, Payload: []byte("42")},
	},
	{
		name: "publish/qos 2 dup, empty payload",
		wire: []byte{
			0x3c, 0x07, // PUBLISH, flags 1100: dup, qos 2; remaining length 7
			0x00, 0x03, 'x', '/', 'y', // topic name "x/y"
			0xff, 0xff, // packet identifier 65535
			// payload: empty (decodes to nil)
		},
		want: &Publish{Dup: true, QoS: 2, Topic: "x/y", PacketID: 0xffff},
	},
	{
		name: "publish/qos 0 retain, empty payload (clears a retained message)",
		wire: []byte{
			0x31, 0x03, // PUBLISH, flags 0001: retain; remaining length 3
			0x00, 0x01, 'r', // topic name "r"
		},
		want: &Publish{Retain: true, Topic: "r"},
	},
	{
		name: "publish/multi-byte UTF-8 topic, BOM kept, binary payload",
		wire: []byte{
			0x30, 0x11, // PUBLISH qos 0; remaining length 17
			0x00, 0x0c, // topic name length 12
			0xef, 0xbb, 0xbf, // U+FEFF, kept as is [MQTT-1.5.3-3]
			'/', 0xc2, 0xb0, 'C', // "/°C"
			'/', 0xf0, 0x9f, 0x98, 0x80, // "/😀" (U+1F600, four bytes)
			0x00, 0xff, 0x7f, // payload: binary 00 ff 7f
		},
		want: &Publish{Topic: "\ufeff/°C/\U0001F600", Payload: []byte{0x00, 0xff, 0x7f}},
	},
	{
		name: "publish/two-byte remaining length",
		wire: cat([]byte{
			0x30, 0xcf, 0x01, // PUBLISH qos 0; remaining length 0x4f + 1<<7 = 207
			0x00, 0x05, 's', '/', 'b', 'i', 'g', // topic name "s/big"
		}, bytes.Repeat([]byte{'z'}, 200)), // payload: 200 × 'z'
		want: &Publish{Topic: "s/big", Payload: bytes.Repeat([]byte{'z'}, 200)},
	},
	{
		name: "puback",
		wire: []byte{0x40, 0x02, // PUBACK; remaining length 2
			0x00, 0x01, // packet identifier 1
		},
		want: &Puback{PacketID: 1},
	},
	{
		name: "pubrec",
		wire: []byte{0x50, 0x02, // PUBREC; remaining length 2
			0xab, 0xcd, // packet identifier 0xabcd
		},
		want: &Pubrec{PacketID: 0xabcd},
	},
	{
		name: "pubrel",
		wire: []byte{0x62, 0x02, // PUBREL, flags 0010 [MQTT-3.6.1-1]; remaining length 2
			0x01, 0x00, // packet identifier 256
		},
		want: &Pubrel{PacketID: 256},
	},
	{
		name: "pubcomp",
		wire: []byte{0x70, 0x02, // PUBCOMP; remaining length 2
			0xff, 0xff, // packet identifier 65535
		},
		want: &Pubcomp{PacketID: 65535},
	},
	{
		name: "subscribe/one filter",
		wire: []byte{
			0x82, 0x08, // SUBSCRIBE, flags 0010 [MQTT-3.8.1-1]; remaining length 8
			0x00, 0x0a, // packet identifier 10
			0x00, 0x03, 'a', '/', '#', // topic filter "a/#"
			0x01, // requested qos 1
		},
		want: &Subscribe{PacketID: 10, Subscriptions: []Subscription{{Filter: "a/#", QoS: 1}}},
	},
	{
		name: "subscribe/three filters, qos 0 1 2",
		wire: []byte{
			0x82, 0x12, // SUBSCRIBE; remaining length 18
			0x00, 0x02, // packet identifier 2
			0x00, 0x01, '#', // topic filter "#"
			0x00,                      // requested qos 0
			0x00, 0x03, '+', '/', 'x', // topic filter "+/x"
			0x01,                      // requested qos 1
			0x00, 0x03, 's', '/', 'y', // topic filter "s/y"
			0x02, // requested qos 2
		},
		want: &Subscribe{PacketID: 2, Subscriptions: []Subscription{{Filter: "#", QoS: 0}, {Filter: "+/x", QoS: 1}, {Filter: "s/y", QoS: 2}}},
	},
	{
		name: "suback/granted and failure",
		wire: []byte{
			0x90, 0x06, // SUBACK; remaining length 6
			0x00, 0x02, // packet identifier 2
			0x00, 0x01, 0x02, // granted qos 0, 1, 2
			0x80, // failure
		},
		want: &Suback{PacketID: 2, ReturnCodes: []byte{0, 1, 2, SubackFailure}},
	},
	{
		name: "suback/one code",
		wire: []byte{
			0x90, 0x03, // SUBACK; remaining length 3
			0x00, 0x0a, // packet identifier 10
			0x01, // granted qos 1
		},
		want: &Suback{PacketID: 10, ReturnCodes: []byte{1}},
	},
	{
		name: "unsubscribe/one filter",
		wire: []byte{
			0xa2, 0x07, // UNSUBSCRIBE, flags 0010 [MQTT-3.10.1-1]; remaining length 7
			0x00, 0x03, // packet identifier 3
			0x00, 0x03, 'a', '/', '#', // topic filter "a/#"
		},
		want: &Unsubscribe{PacketID: 3, Filters: []string{"a/#"}},
	},
	{
		name: "unsubscribe/two filters",
		wire: []byte{
			0xa2, 0x09, // UNSUBSCRIBE; remaining length 9
			0x00, 0x04, // packet identifier 4
			0x00, 0x01, 'a', // topic filter "a"
			0x00, 0x02, '+', 'b', // topic filter "+b" (placement is mqttcore/topic's business)
		},
		want: &Unsubscribe{PacketID: 4, Filters: []string{"a", "+b"}},
	},
	{
		name: "unsuback",
		wire: []byte{0xb0, 0x02, // UNSUBACK; remaining length 2
			0x00, 0x04, // packet identifier 4
		},
		want: &Unsuback{PacketID: 4},
	},
	{
		name: "pingreq",
		wire: []byte{0xc0, 0x00}, // PINGREQ; remaining length 0
		want: &Pingreq{},
	},
	{
		name: "pingresp",
		wire: []byte{0xd0, 0x00}, // PINGRESP; remaining length 0
		want: &Pingresp{},
	},
	{
		name: "disconnect",
		wire: []byte{0xe0, 0x00}, // DISCONNECT; remaining length 0
		want: &Disconnect{},
	},
}

func TestDecode_Golden(t *testing.T) {
	for _, tt := range goldens {
		t.Run(tt.name, func(t *testing.T) {
			h, body := splitGolden(t, tt.wire)
			got, err := Decode(h, body)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decode = %#v\nwant     %#v", got, tt.want)
			}
			// The packet owns its bytes: scribbling over the input
			// changes nothing.
			for i := range body {
				body[i] = 0xee
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("packet aliases the input: %#v", got)
			}
		})
	}
}

func TestAppend_Golden(t *testing.T) {
	for _, tt := range goldens {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("prefix")
			got, err := Append(prefix, tt.want)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if !bytes.Equal(got[:len(prefix)], []byte("prefix")) || !bytes.Equal(got[len(prefix):], tt.wire) {
				t.Fatalf("Append =\n% x\nwant\n% x", got[len(prefix):], tt.wire)
			}
		})
	}
}

func TestReadPacket_Golden(t *testing.T) {
	for _, tt := range goldens {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadPacket(bytes.NewReader(tt.wire), len(tt.wire))
			if err != nil {
				t.Fatalf("ReadPacket: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ReadPacket = %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// splitGolden parses the fixed header of wire with the reader's own header
// parser and returns it with a copy of the body.
func splitGolden(t testing.TB, wire []byte) (FixedHeader, []byte) {
	t.Helper()
	r := bytes.NewReader(wire)
	h, err := readHeader(V5, r, 0)
	if err != nil {
		t.Fatalf("readHeader(% x): %v", wire, err)
	}
	body := bytes.Clone(wire[len(wire)-r.Len():])
	if len(body) != h.Remaining {
		t.Fatalf("golden row: remaining length %d but %d body bytes", h.Remaining, len(body))
	}
	return h, body
}
