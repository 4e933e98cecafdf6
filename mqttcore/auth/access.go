package auth

import "fmt"

// Access is what an ACL rule grants on the topics it matches. The zero
// value is invalid, so a rule whose access was forgotten fails [New].
type Access uint8

// Access levels.
const (
	// Read allows subscribing to filters the rule's topic covers.
	Read Access = iota + 1
	// Write allows publishing to names the rule's topic matches.
	Write
	// ReadWrite allows both.
	ReadWrite
	// Deny refuses both.
	Deny
)

// ParseAccess parses "read", "write", "readwrite" or "deny", the spelling
// of the broker.acl[].access config key.
func ParseAccess(s string) (Access, error) {
	for a := Read; a <= Deny; a++ {
		if s == a.String() {
			return a, nil
		}
	}
	return 0, fmt.Errorf("%w %q (want read, write, readwrite or deny)", ErrInvalidAccess, s)
}

// String returns the config spelling of a.
func (a Access) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	case ReadWrite:
		return "readwrite"
	case Deny:
		return "deny"
	}
	return fmt.Sprintf("Access(%d)", a)
}

//

// canRead reports whether a allows subscribing.
func (a Access) canRead() bool { return a == Read || a == ReadWrite }

// canWrite reports whether a allows publishing.
func (a Access) canWrite() bool { return a == Write || a == ReadWrite }

// valid reports whether a is one of the four levels.
func (a Access) valid() bool { return a >= Read && a <= Deny }
