package topic

import (
	"fmt"
	"strings"
)

// Limits bound topic names and filters below what the protocol allows, so
// that a client cannot make the broker hold structures proportional to a
// hostile topic: every level of a subscription or a retained message is a
// node of a [Trie] or a [Store]. The zero value imposes no limit.
type Limits struct {
	// MaxLevels is the largest number of levels (separators + 1); 0 means
	// no limit. Mosquitto refuses topics of more than 200 levels.
	MaxLevels int
	// MaxLength is the longest topic in bytes; 0 means the protocol's
	// 65,535 [MQTT-4.7.3-3].
	MaxLength int
}

// Check reports whether s, a topic name or filter, is within the limits;
// the error wraps [ErrOverLength] or [ErrTooManyLevels]. It does not
// validate s otherwise (see [ValidateName], [ValidateFilter]). It reads s
// once and does not allocate unless s is refused.
func (l Limits) Check(s string) error {
	if l.MaxLength > 0 && len(s) > l.MaxLength {
		return fmt.Errorf("%w (%d bytes, limit %d)", ErrOverLength, len(s), l.MaxLength)
	}
	if l.MaxLevels > 0 && strings.Count(s, "/") >= l.MaxLevels {
		return fmt.Errorf("%w (%d, limit %d)", ErrTooManyLevels, strings.Count(s, "/")+1, l.MaxLevels)
	}
	return nil
}
