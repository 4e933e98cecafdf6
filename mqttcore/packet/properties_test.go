package packet

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// allowedIn restates table 2-4 of the standard: where each property may
// appear ("will" for the will properties of a CONNECT).
var allowedIn = map[byte][]string{
	0x01: {"publish", "will"},
	0x02: {"publish", "will"},
	0x03: {"publish", "will"},
	0x08: {"publish", "will"},
	0x09: {"publish", "will"},
	0x0b: {"publish", "subscribe"},
	0x11: {"connect", "connack", "disconnect"},
	0x12: {"connack"},
	0x13: {"connack"},
	0x15: {"connect", "connack", "auth"},
	0x16: {"connect", "connack", "auth"},
	0x17: {"connect"},
	0x18: {"will"},
	0x19: {"connect"},
	0x1a: {"connack"},
	0x1c: {"connack", "disconnect"},
	0x1f: {"connack", "puback", "pubrec", "pubrel", "pubcomp", "suback", "unsuback", "disconnect", "auth"},
	0x21: {"connect", "connack"},
	0x22: {"connect", "connack"},
	0x23: {"publish"},
	0x24: {"connack"},
	0x25: {"connack"},
	0x26: {"connect", "connack", "publish", "will", "puback", "pubrec", "pubrel", "pubcomp", "subscribe", "suback",
		"unsubscribe", "unsuback", "disconnect", "auth"},
	0x27: {"connect", "connack"},
	0x28: {"connack"},
	0x29: {"connack"},
	0x2a: {"connack"},
}

// propertyBodies builds, for each place a property may stand, the wire of a
// valid MQTT 5.0 packet whose properties are props.
var propertyBodies = map[string]func(props []byte) []byte{
	"connect": func(p []byte) []byte {
		return withLength(0x10, cat([]byte{0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 0}, p, []byte{0, 1, 'c'}))
	},
	"will": func(p []byte) []byte {
		return withLength(0x10, cat([]byte{0, 4, 'M', 'Q', 'T', 'T', 5, 0x06, 0, 0, 0, 0, 1, 'c'}, p, []byte{0, 1, 'w', 0, 0}))
	},
	"connack":     func(p []byte) []byte { return withLength(0x20, cat([]byte{0, 0}, p)) },
	"publish":     func(p []byte) []byte { return withLength(0x30, cat([]byte{0, 1, 't'}, p, []byte("x"))) },
	"puback":      func(p []byte) []byte { return withLength(0x40, cat([]byte{0, 1, 0}, p)) },
	"pubrec":      func(p []byte) []byte { return withLength(0x50, cat([]byte{0, 1, 0}, p)) },
	"pubrel":      func(p []byte) []byte { return withLength(0x62, cat([]byte{0, 1, 0}, p)) },
	"pubcomp":     func(p []byte) []byte { return withLength(0x70, cat([]byte{0, 1, 0}, p)) },
	"subscribe":   func(p []byte) []byte { return withLength(0x82, cat([]byte{0, 1}, p, []byte{0, 1, 'a', 0})) },
	"suback":      func(p []byte) []byte { return withLength(0x90, cat([]byte{0, 1}, p, []byte{0})) },
	"unsubscribe": func(p []byte) []byte { return withLength(0xa2, cat([]byte{0, 1}, p, []byte{0, 1, 'a'})) },
	"unsuback":    func(p []byte) []byte { return withLength(0xb0, cat([]byte{0, 1}, p, []byte{0})) },
	"disconnect":  func(p []byte) []byte { return withLength(0xe0, cat([]byte{0}, p)) },
	"auth":        func(p []byte) []byte { return withLength(0xf0, cat([]byte{0x18}, p)) },
}

// withLength prefixes body with its first byte and one-byte Remaining Length.
func withLength(first byte, body []byte) []byte { return cat([]byte{first, byte(len(body))}, body) }

// validProperty returns property id with a valid value, by its data type.
func validProperty(id byte) []byte {
	switch id {
	case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2a: // byte
		return []byte{id, 1}
	case 0x13, 0x21, 0x22, 0x23: // two byte integer
		return []byte{id, 0, 1}
	case 0x02, 0x11, 0x18, 0x27: // four byte integer
		return []byte{id, 0, 0, 0, 1}
	case 0x0b: // variable byte integer
		return []byte{id, 1}
	case 0x09, 0x16: // binary data
		return []byte{id, 0, 1, 0xaa}
	case 0x26: // string pair
		return []byte{id, 0, 1, 'k', 0, 1, 'v'}
	}
	return []byte{id, 0, 1, 'r'} // UTF-8 string
}

// TestProperties_allowedSet puts every property identifier 0x00-0x2f, with
// a valid value, in every place properties stand: the decoder accepts it
// exactly where table 2-4 allows it, refuses it elsewhere as a Malformed
// Packet, and the encoder agrees.
func TestProperties_allowedSet(t *testing.T) {
	for place, build := range propertyBodies {
		for id := byte(0); id < 0x30; id++ {
			t.Run(fmt.Sprintf("%s/%#02x", place, id), func(t *testing.T) {
				prop := validProperty(id)
				if id == propAuthData {
					// Authentication Data needs a method (3.1.2.11.10).
					prop = cat(validProperty(propAuthMethod), prop)
				}
				wire := build(cat([]byte{byte(len(prop))}, prop))
				p, err := V5.ReadPacket(bytes.NewReader(wire), 0)
				allowed := false
				for _, where := range allowedIn[id] {
					allowed = allowed || where == place
				}
				if !allowed {
					if !errors.Is(err, ErrMalformed) || Reason(err) != MalformedPacket {
						t.Fatalf("% x decoded as %#v, %v; want Malformed Packet", wire, p, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("% x: %v", wire, err)
				}
				enc, err := V5.Append(nil, p)
				if err != nil || !bytes.Equal(enc, wire) {
					t.Fatalf("re-encoded % x as % x, %v", wire, enc, err)
				}
			})
		}
	}
}

// TestProperties_repeat gives every allowed property twice: only User
// Property, and Subscription Identifier in a PUBLISH, may repeat; any other
// twice is a Protocol Error.
func TestProperties_repeat(t *testing.T) {
	for id, places := range allowedIn {
		for _, place := range places {
			t.Run(fmt.Sprintf("%s/%#02x", place, id), func(t *testing.T) {
				prop := cat(validProperty(id), validProperty(id))
				if id == propAuthData {
					prop = cat(validProperty(propAuthMethod), prop)
				}
				wire := propertyBodies[place](cat([]byte{byte(len(prop))}, prop))
				p, err := V5.ReadPacket(bytes.NewReader(wire), 0)
				if id == propUser || id == propSubscriptionID && place == "publish" {
					if err != nil {
						t.Fatalf("% x: %v", wire, err)
					}
					return
				}
				if !errors.Is(err, ErrProtocol) || Reason(err) != ProtocolError {
					t.Fatalf("% x decoded as %#v, %v; want Protocol Error", wire, p, err)
				}
			})
		}
	}
}
