package packet

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The checks in this file are shared by the decoder and the encoder, so both
// accept exactly the same packets. Except for checkID, they return errors
// without the "packet: <type>: <field>" prefix, which their callers add.

// checkUTF8 checks the rules for a UTF-8 encoded string: well-formed, which
// excludes the surrogates U+D800..U+DFFF [MQTT-1.5.3-1], and no U+0000
// [MQTT-1.5.3-2]. A BOM (U+FEFF) is kept as it is [MQTT-1.5.3-3].
func checkUTF8(b []byte) error {
	if bytes.IndexByte(b, 0) < 0 && utf8.Valid(b) {
		return nil
	}
	return describeUTF8(string(b))
}

// checkUTF8String is checkUTF8 for the encoder, which also enforces the
// 65,535 byte limit of the length prefix [MQTT-1.5.3].
func checkUTF8String(s string) error {
	if len(s) > 0xffff {
		return fmt.Errorf("string of %d bytes exceeds 65535: %w", len(s), ErrMalformed)
	}
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return nil
	}
	return describeUTF8(s)
}

// describeUTF8 says what is wrong with s, which failed checkUTF8.
func describeUTF8(s string) error {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0:
			// [MQTT-1.5.3-2]
			return fmt.Errorf("U+0000 at offset %d of a string: %w", i, ErrMalformed)
		case r == utf8.RuneError && n == 1 && s[i] == 0xed && i+1 < len(s) && s[i+1] >= 0xa0 && s[i+1] <= 0xbf:
			// [MQTT-1.5.3-1]
			return fmt.Errorf("surrogate code point at offset %d of a string: %w", i, ErrMalformed)
		case r == utf8.RuneError && n == 1:
			// [MQTT-1.5.3-1]
			return fmt.Errorf("ill-formed UTF-8 at offset %d of a string: %w", i, ErrMalformed)
		}
		i += n
	}
	return nil
}

// checkBinary checks that b fits a two byte length prefix.
func checkBinary(b []byte) error {
	if len(b) > 0xffff {
		return fmt.Errorf("binary data of %d bytes exceeds 65535: %w", len(b), ErrMalformed)
	}
	return nil
}

// checkTopicName checks the rules for a topic name beyond UTF-8: at least one
// character [MQTT-4.7.3-1] and no wildcard [MQTT-3.3.2-2]. Where wildcards
// may stand is mqttcore/topic's business; a name has none at all.
func checkTopicName(s string) error {
	if s == "" {
		return fmt.Errorf("empty topic name: %w", ErrProtocol)
	}
	if i := strings.IndexAny(s, "+#"); i >= 0 {
		return fmt.Errorf("wildcard %q in topic name %q: %w", s[i], s, ErrProtocol)
	}
	return nil
}

// plainTopic reports whether b is non-empty ASCII without U+0000, '+' and
// '#': a valid topic name, found without the slower checks.
func plainTopic[T string | []byte](b T) bool {
	for i := 0; i < len(b); i++ {
		if c := b[i]; c == 0 || c >= utf8.RuneSelf || c == '+' || c == '#' {
			return false
		}
	}
	return len(b) > 0
}

// checkFilter checks the rule for a topic filter beyond UTF-8: at least one
// character [MQTT-4.7.3-1]. Wildcard placement is checked by mqttcore/topic.
func checkFilter(s string) error {
	if s == "" {
		return fmt.Errorf("empty topic filter: %w", ErrProtocol)
	}
	return nil
}

// checkID checks that a packet identifier is not 0 [MQTT-2.3.1-1]; the
// acknowledgements carry the identifier of a packet that had one
// [MQTT-2.3.1-6] [MQTT-2.3.1-7], so they cannot carry 0 either.
func checkID(what string, id uint16) error {
	if id == 0 {
		return protocol(what, "packet identifier 0")
	}
	return nil
}
