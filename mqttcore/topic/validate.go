package topic

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValidateName reports whether name is a valid topic name for a PUBLISH: at
// least one character [MQTT-4.7.3-1], no wildcard characters [MQTT-4.7.1-1],
// no U+0000 [MQTT-4.7.3-2], at most 65,535 bytes [MQTT-4.7.3-3], well-formed
// UTF-8 [MQTT-1.5.3-1]. The error wraps one of the package's sentinel errors.
func ValidateName(name string) error {
	if err := validateString(name); err != nil {
		return err
	}
	if i := strings.IndexAny(name, "+#"); i >= 0 {
		return at(ErrWildcardInName, name, i)
	}
	return nil
}

// ValidateFilter reports whether filter is a valid topic filter for a
// SUBSCRIBE or UNSUBSCRIBE: the string rules of [ValidateName], '#' only
// alone in the last level [MQTT-4.7.1-2] and '+' only alone in a level
// [MQTT-4.7.1-3]. The error wraps one of the package's sentinel errors.
func ValidateFilter(filter string) error {
	if err := validateString(filter); err != nil {
		return err
	}
	rest, off := filter, 0
	for {
		level, after, more := strings.Cut(rest, "/")
		if i := strings.IndexByte(level, '#'); i >= 0 && (level != "#" || more) {
			return at(ErrMultiLevelWildcard, filter, off+i)
		}
		if i := strings.IndexByte(level, '+'); i >= 0 && level != "+" {
			return at(ErrSingleLevelWildcard, filter, off+i)
		}
		if !more {
			return nil
		}
		rest, off = after, off+len(level)+1
	}
}

//

// maxLen is the longest topic in bytes: its length prefix is a uint16
// [MQTT-4.7.3-3].
const maxLen = 65535

// validateString checks the rules names and filters share.
func validateString(s string) error {
	switch {
	case s == "":
		return ErrEmpty
	case len(s) > maxLen:
		return fmt.Errorf("%w (%d bytes, limit %d)", ErrTooLong, len(s), maxLen)
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return at(ErrNullChar, s, i)
	}
	if !utf8.ValidString(s) {
		return at(ErrInvalidUTF8, s, firstInvalidUTF8(s))
	}
	return nil
}

// firstInvalidUTF8 returns the byte offset of the first ill-formed sequence
// in s, or -1.
func firstInvalidUTF8(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return -1
}

// at wraps err with the offending byte offset and a bounded quote of s.
func at(err error, s string, off int) error {
	const show = 64
	if len(s) > show {
		s = s[:show] + "…"
	}
	return fmt.Errorf("%w (byte %d of %q)", err, off, s)
}
