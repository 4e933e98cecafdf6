package sensors

import "errors"

// Errors found when checking a configuration.
var (
	// ErrUnknownDriver is matched (errors.Is) by the error Check and Open
	// return for a spec whose driver was never registered.
	ErrUnknownDriver = errors.New("sensors: unknown driver")
)

// Errors about a reading. The poller counts them as sensor errors and never
// publishes the reading.
var (
	// ErrInvalidValue is a reading whose value is NaN or ±Inf, before or
	// after the spec's scale and offset.
	ErrInvalidValue = errors.New("sensors: invalid value")

	// ErrBadQuantity is a quantity name that cannot be a topic level: empty,
	// too long, not UTF-8, holding '/', '+', '#' or a control character, or
	// one of the reserved names "status" and "set".
	ErrBadQuantity = errors.New("sensors: bad quantity name")
)

// Errors from Run.
var (
	// ErrRunning is returned by Run when the poller is already running or
	// has run before: a Poller runs once.
	ErrRunning = errors.New("sensors: poller already started")
)
