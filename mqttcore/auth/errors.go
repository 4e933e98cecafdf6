package auth

import "errors"

// Configuration errors returned by [New] (joined, one per problem, each
// wrapped with the user or rule it concerns) and by [ParseAccess]. Invalid
// rule topics wrap the topic package's errors instead, such as
// topic.ErrMultiLevelWildcard.
var (
	// ErrNoUsername means a user has an empty username.
	ErrNoUsername = errors.New("auth: user without username")

	// ErrDuplicateUser means two users have the same username.
	ErrDuplicateUser = errors.New("auth: duplicate username")

	// ErrInvalidHash means a user's password hash is not a bcrypt hash
	// that golang.org/x/crypto/bcrypt can check; it wraps bcrypt's error.
	ErrInvalidHash = errors.New("auth: invalid bcrypt hash")

	// ErrInvalidAccess means an access level is none of read, write,
	// readwrite and deny.
	ErrInvalidAccess = errors.New("auth: invalid access")
)
