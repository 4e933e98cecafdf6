package packet

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// violation is one packet that breaks one rule, the rule's conformance id,
// the sentinel the error must wrap and a fragment of its message.
type violation struct {
	spec string
	name string
	wire []byte
	want error
	msg  string
}

var violations = []violation{
	// Fixed header [MQTT-2.2].
	{"MQTT-2.2.1", "reserved type 0", []byte{0x00, 0x00}, ErrMalformed, "reserved packet type 0"},
	{"MQTT-2.2.1", "reserved type 15", []byte{0xf0, 0x00}, ErrMalformed, "reserved packet type 15"},
	{"MQTT-2.2.3", "fifth remaining length byte", []byte{0x30, 0x80, 0x80, 0x80, 0x80, 0x01}, ErrMalformed, "fifth byte"},
	{"MQTT-2.2.2-1", "connect flags 0001", cat([]byte{0x11}, goldenWire("connect/minimal")[1:]), ErrMalformed, "connect: fixed header flags"},
	{"MQTT-2.2.2-1", "connack flags 1000", []byte{0x28, 0x02, 0x00, 0x00}, ErrMalformed, "connack: fixed header flags"},
	{"MQTT-2.2.2-1", "puback flags 0010", []byte{0x42, 0x02, 0x00, 0x01}, ErrMalformed, "puback: fixed header flags"},
	{"MQTT-2.2.2-1", "pubrec flags 0001", []byte{0x51, 0x02, 0x00, 0x01}, ErrMalformed, "pubrec: fixed header flags"},
	{"MQTT-3.6.1-1", "pubrel flags 0000", []byte{0x60, 0x02, 0x00, 0x01}, ErrMalformed, "pubrel: fixed header flags 0b0000, want 0b0010"},
	{"MQTT-3.6.1-1", "pubrel flags 0011", []byte{0x63, 0x02, 0x00, 0x01}, ErrMalformed, "pubrel: fixed header flags"},
	{"MQTT-2.2.2-1", "pubcomp flags 0100", []byte{0x74, 0x02, 0x00, 0x01}, ErrMalformed, "pubcomp: fixed header flags"},
	{"MQTT-3.8.1-1", "subscribe flags 0000", []byte{0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00}, ErrMalformed, "subscribe: fixed header flags"},
	{"MQTT-2.2.2-1", "suback flags 0010", []byte{0x92, 0x03, 0x00, 0x01, 0x00}, ErrMalformed, "suback: fixed header flags"},
	{"MQTT-3.10.1-1", "unsubscribe flags 0000", []byte{0xa0, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'}, ErrMalformed, "unsubscribe: fixed header flags"},
	{"MQTT-3.10.1-1", "unsubscribe flags 1010", []byte{0xaa, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'}, ErrMalformed, "unsubscribe: fixed header flags"},
	{"MQTT-2.2.2-1", "unsuback flags 0001", []byte{0xb1, 0x02, 0x00, 0x01}, ErrMalformed, "unsuback: fixed header flags"},
	{"MQTT-2.2.2-1", "pingreq flags 0001", []byte{0xc1, 0x00}, ErrMalformed, "pingreq: fixed header flags"},
	{"MQTT-2.2.2-1", "pingresp flags 1000", []byte{0xd8, 0x00}, ErrMalformed, "pingresp: fixed header flags"},
	{"MQTT-3.14.1-1", "disconnect flags 0010", []byte{0xe2, 0x00}, ErrMalformed, "disconnect: fixed header flags"},

	// Fixed-size packets reject any other length.
	{"MQTT-3.2.1", "connack length 3", []byte{0x20, 0x03, 0x00, 0x00, 0x00}, ErrMalformed, "connack: remaining length 3, want 2"},
	{"MQTT-3.4.1", "puback length 1", []byte{0x40, 0x01, 0x01}, ErrMalformed, "puback: remaining length 1, want 2"},
	{"MQTT-3.4.1", "puback length 3", []byte{0x40, 0x03, 0x00, 0x01, 0x00}, ErrMalformed, "puback: remaining length 3"},
	{"MQTT-3.5.1", "pubrec length 0", []byte{0x50, 0x00}, ErrMalformed, "pubrec: remaining length 0"},
	{"MQTT-3.6.1", "pubrel length 4", []byte{0x62, 0x04, 0x00, 0x01, 0x00, 0x02}, ErrMalformed, "pubrel: remaining length 4"},
	{"MQTT-3.7.1", "pubcomp length 1", []byte{0x70, 0x01, 0x00}, ErrMalformed, "pubcomp: remaining length 1"},
	{"MQTT-3.11.1", "unsuback length 3", []byte{0xb0, 0x03, 0x00, 0x01, 0x00}, ErrMalformed, "unsuback: remaining length 3"},
	{"MQTT-3.12.1", "pingreq length 1", []byte{0xc0, 0x01, 0x00}, ErrMalformed, "pingreq: remaining length 1, want 0"},
	{"MQTT-3.13.1", "pingresp length 2", []byte{0xd0, 0x02, 0x00, 0x00}, ErrMalformed, "pingresp: remaining length 2"},
	{"MQTT-3.14.1", "disconnect length 1", []byte{0xe0, 0x01, 0x00}, ErrMalformed, "disconnect: remaining length 1"},

	// Packet identifiers [MQTT-2.3.1].
	{"MQTT-2.3.1-1", "publish qos 1 id 0", []byte{0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00}, ErrProtocol, "publish: packet identifier 0"},
	{"MQTT-2.3.1-1", "publish qos 2 id 0", []byte{0x34, 0x05, 0x00, 0x01, 't', 0x00, 0x00}, ErrProtocol, "publish: packet identifier 0"},
	{"MQTT-2.3.1-1", "subscribe id 0", []byte{0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00}, ErrProtocol, "subscribe: packet identifier 0"},
	{"MQTT-2.3.1-1", "unsubscribe id 0", []byte{0xa2, 0x05, 0x00, 0x00, 0x00, 0x01, 'a'}, ErrProtocol, "unsubscribe: packet identifier 0"},
	{"MQTT-2.3.1-6", "puback id 0", []byte{0x40, 0x02, 0x00, 0x00}, ErrProtocol, "puback: packet identifier 0"},
	{"MQTT-2.3.1-6", "pubrec id 0", []byte{0x50, 0x02, 0x00, 0x00}, ErrProtocol, "pubrec: packet identifier 0"},
	{"MQTT-2.3.1-6", "pubrel id 0", []byte{0x62, 0x02, 0x00, 0x00}, ErrProtocol, "pubrel: packet identifier 0"},
	{"MQTT-2.3.1-6", "pubcomp id 0", []byte{0x70, 0x02, 0x00, 0x00}, ErrProtocol, "pubcomp: packet identifier 0"},
	{"MQTT-2.3.1-7", "suback id 0", []byte{0x90, 0x03, 0x00, 0x00, 0x00}, ErrProtocol, "suback: packet identifier 0"},
	{"MQTT-2.3.1-7", "unsuback id 0", []byte{0xb0, 0x02, 0x00, 0x00}, ErrProtocol, "unsuback: packet identifier 0"},

	// UTF-8 encoded strings [MQTT-1.5.3], checked in every string field.
	{"MQTT-1.5.3-2", "U+0000 in topic name", []byte{0x30, 0x05, 0x00, 0x03, 'a', 0x00, 'b'}, ErrMalformed, "topic name: U+0000 at offset 1"},
	{"MQTT-1.5.3-1", "surrogate U+D800 in topic name", []byte{0x30, 0x05, 0x00, 0x03, 0xed, 0xa0, 0x80}, ErrMalformed, "topic name: surrogate"},
	{"MQTT-1.5.3-1", "surrogate U+DFFF in topic name", []byte{0x30, 0x05, 0x00, 0x03, 0xed, 0xbf, 0xbf}, ErrMalformed, "topic name: surrogate"},
	{"MQTT-1.5.3-1", "invalid byte 0xff in topic name", []byte{0x30, 0x03, 0x00, 0x01, 0xff}, ErrMalformed, "topic name: ill-formed UTF-8"},
	{"MQTT-1.5.3-1", "overlong encoding of '/'", []byte{0x30, 0x04, 0x00, 0x02, 0xc0, 0xaf}, ErrMalformed, "topic name: ill-formed UTF-8"},
	{"MQTT-1.5.3-1", "code point above U+10FFFF", []byte{0x30, 0x06, 0x00, 0x04, 0xf4, 0x90, 0x80, 0x80}, ErrMalformed, "ill-formed UTF-8"},
	{"MQTT-1.5.3-1", "truncated multi-byte sequence", []byte{0x30, 0x04, 0x00, 0x02, 'a', 0xc2}, ErrMalformed, "ill-formed UTF-8 at offset 1"},
	{"MQTT-1.5.3-1", "string length past the end", []byte{0x30, 0x04, 0x00, 0x05, 'a', 'b'}, ErrMalformed, "topic name: need 5 bytes"},

	// PUBLISH [MQTT-3.3].
	{"MQTT-3.3.1-4", "publish qos 3", []byte{0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01}, ErrMalformed, "publish: qos 3"},
	{"MQTT-3.3.1-2", "publish dup with qos 0", []byte{0x38, 0x03, 0x00, 0x01, 't'}, ErrMalformed, "publish: dup flag with qos 0"},
	{"MQTT-3.3.2-1", "publish without topic name", []byte{0x30, 0x01, 0x00}, ErrMalformed, "publish: topic name: need 2 bytes"},
	{"MQTT-3.3.2-2", "publish topic with +", []byte{0x30, 0x05, 0x00, 0x03, 'a', '/', '+'}, ErrProtocol, "wildcard '+'"},
	{"MQTT-3.3.2-2", "publish topic with #", []byte{0x30, 0x03, 0x00, 0x01, '#'}, ErrProtocol, "wildcard '#'"},
	{"MQTT-4.7.3-1", "publish empty topic", []byte{0x30, 0x04, 0x00, 0x00, 'h', 'i'}, ErrProtocol, "empty topic name"},
	{"MQTT-2.3.1-1", "publish qos 1 without packet id", []byte{0x32, 0x03, 0x00, 0x01, 't'}, ErrMalformed, "publish: packet identifier: need 2 bytes"},

	// CONNECT [MQTT-3.1].
	{"MQTT-3.1.2-1", "connect protocol name MQTX", connectWire("MQTX", 4, 0x02, "\x00\x01c"), ErrProtocol, `protocol name "MQTX"`},
	{"MQTT-3.1.2-1", "connect protocol name mqtt", connectWire("mqtt", 4, 0x02, "\x00\x01c"), ErrProtocol, `protocol name "mqtt"`},
	{"MQTT-3.1.2-1", "connect without protocol name", []byte{0x10, 0x01, 0x00}, ErrMalformed, "connect: protocol name: need 2 bytes"},
	{"MQTT-3.1.2-1", "connect protocol name not UTF-8", connectWire("MQ\xffT", 4, 0x02, "\x00\x01c"), ErrMalformed, "connect: protocol name: ill-formed"},
	{"MQTT-3.1.2.2", "connect without protocol level", []byte{0x10, 0x06, 0x00, 0x04, 'M', 'Q', 'T', 'T'}, ErrMalformed, "connect: protocol level"},
	{"MQTT-3.1.2-3", "connect reserved flag", connectWire("MQTT", 4, 0x03, "\x00\x01c"), ErrMalformed, "reserved connect flag"},
	{"MQTT-3.1.2-13", "will qos 1 without will flag", connectWire("MQTT", 4, 0x0a, "\x00\x01c"), ErrMalformed, "will qos 1 without will flag"},
	{"MQTT-3.1.2-13", "will qos 2 without will flag", connectWire("MQTT", 4, 0x12, "\x00\x01c"), ErrMalformed, "will qos 2 without will flag"},
	{"MQTT-3.1.2-15", "will retain without will flag", connectWire("MQTT", 4, 0x22, "\x00\x01c"), ErrMalformed, "will retain without will flag"},
	{"MQTT-3.1.2-14", "will qos 3", connectWire("MQTT", 4, 0x1e, "\x00\x01c\x00\x01w\x00\x00"), ErrMalformed, "will qos 3"},
	{"MQTT-3.1.2-22", "password flag without user name flag", connectWire("MQTT", 4, 0x42, "\x00\x01c\x00\x01p"), ErrMalformed, "password flag without user name flag"},
	{"MQTT-3.1.2-9", "will flag without will topic", connectWire("MQTT", 4, 0x06, "\x00\x01c"), ErrMalformed, "connect: will topic: need 2 bytes"},
	{"MQTT-3.1.2-9", "will flag without will message", connectWire("MQTT", 4, 0x06, "\x00\x01c\x00\x01w"), ErrMalformed, "connect: will message: need 2 bytes"},
	{"MQTT-3.1.2-11", "will fields without will flag", connectWire("MQTT", 4, 0x02, "\x00\x01c\x00\x01w\x00\x00"), ErrMalformed, "connect: 5 unexpected bytes"},
	{"MQTT-3.1.2-18", "user name without user name flag", connectWire("MQTT", 4, 0x02, "\x00\x01c\x00\x01u"), ErrMalformed, "connect: 3 unexpected bytes"},
	{"MQTT-3.1.2-19", "user name flag without user name", connectWire("MQTT", 4, 0x82, "\x00\x01c"), ErrMalformed, "connect: user name: need 2 bytes"},
	{"MQTT-3.1.2-20", "password without password flag", connectWire("MQTT", 4, 0x82, "\x00\x01c\x00\x01u\x00\x01p"), ErrMalformed, "connect: 3 unexpected bytes"},
	{"MQTT-3.1.2-21", "password flag without password", connectWire("MQTT", 4, 0xc2, "\x00\x01c\x00\x01u"), ErrMalformed, "connect: password: need 2 bytes"},
	{"MQTT-3.1.2-21", "password shorter than its length", connectWire("MQTT", 4, 0xc2, "\x00\x01c\x00\x01u\x00\x05pw"), ErrMalformed, "connect: password: need 5 bytes"},
	{"MQTT-3.1.2.10", "connect without keep alive", []byte{0x10, 0x09, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00}, ErrMalformed, "connect: keep alive"},
	{"MQTT-3.1.3-3", "connect without client identifier", connectWire("MQTT", 4, 0x02, ""), ErrMalformed, "connect: client identifier: need 2 bytes"},
	{"MQTT-3.1.3-4", "client identifier not UTF-8", connectWire("MQTT", 4, 0x02, "\x00\x02c\xc0"), ErrMalformed, "connect: client identifier: ill-formed UTF-8"},
	{"MQTT-1.5.3-2", "client identifier with U+0000", connectWire("MQTT", 4, 0x02, "\x00\x02c\x00"), ErrMalformed, "connect: client identifier: U+0000"},
	{"MQTT-3.1.3-10", "will topic not UTF-8", connectWire("MQTT", 4, 0x06, "\x00\x01c\x00\x02\xed\xa0\x00\x00"), ErrMalformed, "connect: will topic: surrogate"},
	{"MQTT-3.3.2-2", "will topic with wildcard", connectWire("MQTT", 4, 0x06, "\x00\x01c\x00\x03a/#\x00\x00"), ErrProtocol, "connect: will topic: wildcard"},
	{"MQTT-4.7.3-1", "empty will topic", connectWire("MQTT", 4, 0x06, "\x00\x01c\x00\x00\x00\x00"), ErrProtocol, "connect: will topic: empty topic name"},
	{"MQTT-3.1.3-11", "user name not UTF-8", connectWire("MQTT", 4, 0x82, "\x00\x01c\x00\x01\x80"), ErrMalformed, "connect: user name: ill-formed"},

	// CONNACK [MQTT-3.2].
	{"MQTT-3.2.2.1", "connack reserved acknowledge flag", []byte{0x20, 0x02, 0x02, 0x00}, ErrMalformed, "reserved acknowledge flags"},
	{"MQTT-3.2.2.3", "connack return code 6", []byte{0x20, 0x02, 0x00, 0x06}, ErrProtocol, "reserved return code 6"},
	{"MQTT-3.2.2-4", "connack session present with refusal", []byte{0x20, 0x02, 0x01, 0x05}, ErrProtocol, "session present with return code 5"},

	// SUBSCRIBE [MQTT-3.8].
	{"MQTT-3.8.3-3", "subscribe without filter", []byte{0x82, 0x02, 0x00, 0x01}, ErrProtocol, "subscribe: no topic filter"},
	{"MQTT-3.8.3-4", "subscribe requested qos 3", []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03}, ErrMalformed, "packet: subscribe: requested qos 3: malformed packet"},
	{"MQTT-3.8.3-4", "subscribe reserved bit 2", []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x05}, ErrMalformed, "subscribe: requested qos 5"},
	{"MQTT-3.8.3-4", "subscribe reserved bit 7", []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x80}, ErrMalformed, "subscribe: requested qos 128"},
	{"MQTT-3.8.3-4", "subscribe second filter qos 3", []byte{0x82, 0x0a, 0x00, 0x01, 0x00, 0x01, 'a', 0x00, 0x00, 0x01, 'b', 0x03}, ErrMalformed, "requested qos 3"},
	{"MQTT-3.8.3-1", "subscribe filter not UTF-8", []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0xfe, 0x00}, ErrMalformed, "subscribe: topic filter: ill-formed"},
	{"MQTT-4.7.3-1", "subscribe empty filter", []byte{0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00}, ErrProtocol, "subscribe: topic filter: empty topic filter"},
	{"MQTT-3.8.3-1", "subscribe filter without qos", []byte{0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'}, ErrMalformed, "subscribe: requested qos: need 1 bytes"},
	{"MQTT-3.8.3-1", "subscribe filter length past the end", []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x09, 'a', 0x00}, ErrMalformed, "subscribe: topic filter: need 9 bytes"},
	{"MQTT-3.8.2", "subscribe without packet id", []byte{0x82, 0x01, 0x00}, ErrMalformed, "subscribe: packet identifier: need 2 bytes"},

	// SUBACK [MQTT-3.9].
	{"MQTT-3.8.4-5", "suback without return code", []byte{0x90, 0x02, 0x00, 0x01}, ErrProtocol, "suback: no return code"},
	{"MQTT-3.9.3-2", "suback return code 3", []byte{0x90, 0x03, 0x00, 0x01, 0x03}, ErrProtocol, "reserved return code 0x03"},
	{"MQTT-3.9.3-2", "suback return code 0x81", []byte{0x90, 0x04, 0x00, 0x01, 0x00, 0x81}, ErrProtocol, "reserved return code 0x81"},
	{"MQTT-3.9.2", "suback without packet id", []byte{0x90, 0x01, 0x00}, ErrMalformed, "suback: packet identifier"},

	// UNSUBSCRIBE [MQTT-3.10].
	{"MQTT-3.10.3-2", "unsubscribe without filter", []byte{0xa2, 0x02, 0x00, 0x01}, ErrProtocol, "unsubscribe: no topic filter"},
	{"MQTT-3.10.3-1", "unsubscribe filter not UTF-8", []byte{0xa2, 0x05, 0x00, 0x01, 0x00, 0x01, 0x80}, ErrMalformed, "unsubscribe: topic filter: ill-formed"},
	{"MQTT-1.5.3-2", "unsubscribe filter with U+0000", []byte{0xa2, 0x05, 0x00, 0x01, 0x00, 0x01, 0x00}, ErrMalformed, "unsubscribe: topic filter: U+0000"},
	{"MQTT-4.7.3-1", "unsubscribe empty filter", []byte{0xa2, 0x04, 0x00, 0x01, 0x00, 0x00}, ErrProtocol, "unsubscribe: topic filter: empty"},
	{"MQTT-3.10.3-1", "unsubscribe truncated filter", []byte{0xa2, 0x05, 0x00, 0x01, 0x00, 0x02, 'a'}, ErrMalformed, "unsubscribe: topic filter: need 2 bytes"},
	{"MQTT-3.10.3-1", "unsubscribe half a length", []byte{0xa2, 0x03, 0x00, 0x01, 0x00}, ErrMalformed, "unsubscribe: topic filter: need 2 bytes"},
}

func TestReadPacket_Violations(t *testing.T) {
	for _, tt := range violations {
		t.Run(tt.spec+"/"+tt.name, func(t *testing.T) {
			p, err := ReadPacket(bytes.NewReader(tt.wire), 0)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadPacket(% x) = %v, %v; want %v", tt.wire, p, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "packet: ") {
				t.Fatalf("error %q does not start with \"packet: \" or lacks %q", err, tt.msg)
			}
			if p != nil {
				t.Fatalf("packet %#v returned with %v", p, err)
			}
			// Exactly one sentinel: the kinds of error are exclusive.
			n := 0
			for _, s := range []error{ErrMalformed, ErrProtocol, ErrTooLarge} {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%v wraps %d sentinels", err, n)
			}
		})
	}
}

// TestReader_Violations checks that the buffered Reader refuses the same
// packets with the same errors.
func TestReader_Violations(t *testing.T) {
	for _, tt := range violations {
		t.Run(tt.spec+"/"+tt.name, func(t *testing.T) {
			want, _ := ReadPacket(bytes.NewReader(tt.wire), 0)
			_, err := NewReader(bytes.NewReader(tt.wire), 0).Read()
			_, werr := ReadPacket(bytes.NewReader(tt.wire), 0)
			if want != nil || err == nil || err.Error() != werr.Error() {
				t.Fatalf("Reader.Read = %v, ReadPacket = %v", err, werr)
			}
		})
	}
}

func TestDecode_UnsupportedProtocolLevel(t *testing.T) {
	tests := []struct {
		name  string
		wire  []byte
		level byte
	}{
		{"MQTT level 5 (MQTT v5 CONNECT, properties follow)", connectWire("MQTT", 5, 0x02, "\x00\x00\x00\x01c"), 5},
		{"MQTT level 3", connectWire("MQTT", 3, 0x02, "\x00\x01c"), 3},
		{"MQIsdp level 4", connectWire("MQIsdp", 4, 0x02, "\x00\x01c"), 4},
		// Nothing after the level is decoded, since another level may
		// lay it out differently.
		{"MQTT level 6, nothing after the level", []byte{0x10, 0x07, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06}, 6},
		{"MQTT level 255, reserved flag set", connectWire("MQTT", 255, 0x01, ""), 255},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ReadPacket(bytes.NewReader(tt.wire), 0)
			// [MQTT-3.1.2-2]: the broker answers CONNACK 0x01.
			if err != RefusedProtocolVersion { //nolint:errorlint // the contract is the bare code
				t.Fatalf("err = %v, want RefusedProtocolVersion", err)
			}
			var code ConnackCode
			if !errors.As(err, &code) || code != 0x01 {
				t.Fatalf("errors.As(%v) = %#x", err, code)
			}
			c, ok := p.(*Connect)
			if !ok {
				t.Fatalf("packet = %#v, want *Connect", p)
			}
			want := &Connect{ProtocolName: c.ProtocolName, ProtocolLevel: tt.level}
			if !reflect.DeepEqual(c, want) || (c.ProtocolName != "MQTT" && c.ProtocolName != "MQIsdp") {
				t.Fatalf("packet = %#v, want %#v", c, want)
			}
			// The stream stays in step: the next packet reads fine.
			r := NewReader(bytes.NewReader(cat(tt.wire, []byte{0xc0, 0x00})), 0)
			if _, err := r.Read(); err != RefusedProtocolVersion { //nolint:errorlint
				t.Fatalf("Reader: %v", err)
			}
			if p, err := r.Read(); err != nil || p.Type() != PINGREQ {
				t.Fatalf("next packet: %v, %v", p, err)
			}
		})
	}
}

func TestConnackCode_Error(t *testing.T) {
	for c := ConnackCode(0); c < 8; c++ {
		msg := c.Error()
		if !strings.HasPrefix(msg, "packet: connection ") {
			t.Errorf("%d: %q", c, msg)
		}
	}
	if got := RefusedProtocolVersion.Error(); got != "packet: connection refused: unacceptable protocol version" {
		t.Errorf("RefusedProtocolVersion.Error() = %q", got)
	}
	var err error = RefusedNotAuthorized
	if !errors.Is(err, RefusedNotAuthorized) || errors.Is(err, RefusedProtocolVersion) {
		t.Errorf("errors.Is on ConnackCode")
	}
}

func TestDecode_BodyLengthMismatch(t *testing.T) {
	_, err := Decode(FixedHeader{Type: PUBACK, Remaining: 2}, []byte{0x00, 0x01, 0x02})
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
	_, err = Decode(FixedHeader{Type: PUBLISH, Remaining: -1}, nil)
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
}

func TestReadPacket_TooLarge(t *testing.T) {
	wire := goldenWire("publish/qos 0") // remaining length 10
	if _, err := ReadPacket(bytes.NewReader(wire), 10); err != nil {
		t.Fatalf("limit 10: %v", err)
	}
	_, err := ReadPacket(bytes.NewReader(wire), 9)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "packet: publish: remaining length 10 exceeds limit 9") {
		t.Fatalf("limit 9: %v", err)
	}
	// The largest four-byte length is too large, not malformed.
	_, err = ReadPacket(bytes.NewReader([]byte{0x30, 0xff, 0xff, 0xff, 0x7f}), 1<<20)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("0xff 0xff 0xff 0x7f: %v", err)
	}
}

// connectWire builds a CONNECT: protocol name, level, flags, keep alive 60,
// then payload as given.
func connectWire(name string, level, flags byte, payload string) []byte {
	body := appendString(nil, name)
	body = append(body, level, flags, 0x00, 0x3c)
	body = append(body, payload...)
	return cat(appendRemaining([]byte{0x10}, len(body)), body)
}

// goldenWire returns the wire bytes of a golden row.
func goldenWire(name string) []byte {
	for _, g := range goldens {
		if g.name == name {
			return bytes.Clone(g.wire)
		}
	}
	panic("no golden row " + name)
}
