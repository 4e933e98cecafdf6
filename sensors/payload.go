package sensors

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Payload is the JSON body of a reading on "<topic>/<quantity>" (contract):
// {"value": 21.53, "unit": "°C", "ts": "2026-11-22T10:00:00.123Z"}.
type Payload struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	TS    string  `json:"ts"`              // RFC 3339, UTC, milliseconds; see FormatTime
	Clock string  `json:"clock,omitempty"` // "unsynced" when the system clock was not synchronized
}

// Status is the JSON body of "<topic>/status", published retained whenever a
// sensor's state changes, and with StateOffline when the gateway stops.
type Status struct {
	State string `json:"state"`           // StateOK, StateError or StateOffline
	Error string `json:"error,omitempty"` // the error that made the sensor fail
	TS    string `json:"ts"`              // when the state changed; see FormatTime
}

// The values of Status.State.
const (
	StateOK    = "ok"
	StateError = "error"
	// StateOffline says the gateway stopped cleanly: no readings follow
	// until it runs again.
	StateOffline = "offline"
)

// ClockUnsynced is the value of Payload.Clock when the system clock was not
// synchronized at the time of the reading.
const ClockUnsynced = "unsynced"

// TimeFormat is the layout of Payload.TS and Status.TS: RFC 3339 with
// milliseconds, always in UTC ("Z").
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// FormatTime formats t in UTC with TimeFormat.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// MarshalReading returns the Payload of r as JSON. It fails with
// ErrInvalidValue for NaN and ±Inf, which JSON cannot carry.
func MarshalReading(r Reading, clockSynced bool) ([]byte, error) {
	if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
		return nil, fmt.Errorf("%w: %s = %v", ErrInvalidValue, r.Quantity, r.Value)
	}
	p := Payload{Value: r.Value, Unit: r.Unit, TS: FormatTime(r.Time)}
	if !clockSynced {
		p.Clock = ClockUnsynced
	}
	return json.Marshal(p)
}

// ValidQuantity reports whether name can be a quantity: one topic level that
// is valid UTF-8, at most 64 bytes, free of '/', '+', '#' and control
// characters, and neither "status" nor "set" (the poller uses those topics).
// The error matches ErrBadQuantity.
func ValidQuantity(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadQuantity)
	case len(name) > maxQuantityLen:
		return fmt.Errorf("%w: %q is longer than %d bytes", ErrBadQuantity, name, maxQuantityLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %q is not UTF-8", ErrBadQuantity, name)
	case name == "status" || name == "set":
		return fmt.Errorf("%w: %q is reserved", ErrBadQuantity, name)
	case strings.ContainsFunc(name, badTopicRune):
		return fmt.Errorf("%w: %q holds '/', '+', '#' or a control character", ErrBadQuantity, name)
	}
	return nil
}

//

const maxQuantityLen = 64

func badTopicRune(r rune) bool {
	return r == '/' || r == '+' || r == '#' || r < 0x20 || r == 0x7f
}

// MarshalOffline returns the "<topic>/status" payload a clean shutdown at
// time at leaves behind.
func MarshalOffline(at time.Time) []byte {
	b, _ := json.Marshal(Status{State: StateOffline, TS: FormatTime(at)}) // strings only: cannot fail
	return b
}

// MarshalStatus returns the "<topic>/status" payload for a sensor whose last
// read (or open) at time at ended with err (nil: ok).
func MarshalStatus(err error, at time.Time) []byte {
	s := Status{State: StateOK, TS: FormatTime(at)}
	if err != nil {
		s.State, s.Error = StateError, err.Error()
	}
	b, _ := json.Marshal(s) // strings only: cannot fail
	return b
}
