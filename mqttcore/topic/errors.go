package topic

import "errors"

// Errors returned by [ValidateName] and [ValidateFilter], wrapped with
// detail; test for them with errors.Is.
var (
	// ErrEmpty means the topic is the empty string. Names and filters are at
	// least one character long [MQTT-4.7.3-1].
	ErrEmpty = errors.New("topic: empty")

	// ErrTooLong means the topic is longer than 65,535 bytes [MQTT-4.7.3-3].
	ErrTooLong = errors.New("topic: too long")

	// ErrInvalidUTF8 means the topic is not well-formed UTF-8 (which
	// includes encoded surrogates) [MQTT-1.5.3-1].
	ErrInvalidUTF8 = errors.New("topic: invalid utf-8")

	// ErrNullChar means the topic contains U+0000 [MQTT-4.7.3-2].
	ErrNullChar = errors.New("topic: contains null character")

	// ErrWildcardInName means a topic name contains '+' or '#'; wildcards
	// belong in filters only [MQTT-4.7.1-1].
	ErrWildcardInName = errors.New("topic: wildcard in topic name")

	// ErrMultiLevelWildcard means '#' in a filter is not alone in the last
	// level [MQTT-4.7.1-2].
	ErrMultiLevelWildcard = errors.New("topic: '#' must be alone in the last level")

	// ErrSingleLevelWildcard means '+' in a filter does not occupy a whole
	// level [MQTT-4.7.1-3].
	ErrSingleLevelWildcard = errors.New("topic: '+' must occupy a whole level")
)

// Errors returned by [Limits.Check], wrapped with detail.
var (
	// ErrTooManyLevels means the topic has more levels than
	// Limits.MaxLevels allows.
	ErrTooManyLevels = errors.New("topic: too many levels")

	// ErrOverLength means the topic is longer than Limits.MaxLength allows.
	ErrOverLength = errors.New("topic: longer than the configured limit")
)
