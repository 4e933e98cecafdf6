package offline

import "errors"

// Errors returned by a DB, a Queue or a KV. Errors from bbolt and the file
// system are wrapped (test them with errors.Is, e.g. syscall.ENOSPC).
var (
	// ErrClosed is returned by every method called after (*DB).Close, and by
	// Read when the DB is closed while it waits.
	ErrClosed = errors.New("offline: db closed")

	// ErrFull is returned by Append when the queue is at MaxMessages or
	// MaxBytes and its policy is DropNew, or when one message alone is
	// larger than MaxBytes. The message was not stored; it is counted as
	// "overflow_new" in QueueStats.Dropped.
	ErrFull = errors.New("offline: queue full")

	// ErrNotFound is returned by MarkReceived and Quarantine for a sequence
	// number that is not in the queue (already acknowledged, dropped by the
	// overflow policy, expired or quarantined).
	ErrNotFound = errors.New("offline: no such entry")

	// ErrInvalid is returned for arguments that can never be stored: a QoS
	// above 2, a negative TTL, an empty queue name or KV key, a key or value
	// above bbolt's limits.
	ErrInvalid = errors.New("offline: invalid argument")

	// ErrCorrupt wraps a failure that bbolt reported as a panic while reading
	// or writing the file (a damaged page). The operation failed and nothing
	// was acknowledged; the next Open runs a full consistency check.
	ErrCorrupt = errors.New("offline: database corrupt")
)

// errMalformed marks a stored value that does not decode; Read quarantines
// such entries instead of failing.
var errMalformed = errors.New("offline: malformed stored value")
