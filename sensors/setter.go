package sensors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// QuantitySetter is implemented by sensors some of whose quantities can be
// written (Modbus coils and holding registers). The poller subscribes
// "<topic>/<quantity>/set" for each quantity Writable lists, parses the
// payload (ParseSetValue), undoes the spec's Process scale and offset, and
// calls SetQuantity from its poll loop (never concurrently with Sense).
// SetQuantity checks value against the quantity's range and fails without
// writing anything when it is out of it; after a write it reads the
// quantity back and returns that reading, which the poller publishes on
// "<topic>/<quantity>".
type QuantitySetter interface {
	Writable() []string
	SetQuantity(ctx context.Context, quantity string, value float64) (Reading, error)
}

// SetResult is the JSON body of "<topic>/<quantity>/set/result", published
// (not retained) after each command on "<topic>/<quantity>/set", and of
// "<topic>/<name>/result" after a Commander's command.
type SetResult struct {
	OK    bool     `json:"ok"`
	Value *float64 `json:"value,omitempty"` // the value read back, or the command's outcome (OK)
	Unit  string   `json:"unit,omitempty"`  // Value's unit (Commander commands only)
	Error string   `json:"error,omitempty"` // why nothing (or not the value asked for) was written
	TS    string   `json:"ts"`
}

// ErrBadCommand is a "<topic>/<quantity>/set" payload that is not a value:
// neither a number, true/false, ON/OFF, nor {"value": x} with x one of those.
var ErrBadCommand = errors.New("sensors: bad set payload")

// ParseSetValue reads the value of a "<topic>/<quantity>/set" payload: a
// plain number ("21.5"), true/false or ON/OFF (1 and 0, any case), or a
// JSON object {"value": x} with x a number or a boolean. NaN and ±Inf are
// refused.
func ParseSetValue(payload []byte) (float64, error) {
	s := strings.TrimSpace(string(payload))
	if strings.HasPrefix(s, "{") {
		var obj struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal([]byte(s), &obj); err != nil || len(obj.Value) == 0 {
			return 0, fmt.Errorf("%w: want {\"value\": x}, got %.64q", ErrBadCommand, s)
		}
		s = string(bytes.Trim(obj.Value, `"`))
	}
	switch strings.ToLower(s) {
	case "true", "on":
		return 1, nil
	case "false", "off":
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: want a number, true/false, ON/OFF or {\"value\": x}, got %.64q", ErrBadCommand, s)
	}
	return v, nil
}

// Reverse undoes Apply's scale and offset: the raw value that Apply turns
// into v (before rounding). A zero Scale counts as 1.
func (p Process) Reverse(v float64) float64 {
	v -= p.Offset
	if p.Scale != 0 {
		v /= p.Scale
	}
	return v
}
