package sensors

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/edgegw/edgegw/internal/suggest"
)

// Option is one driver-specific key's value as YAML decoded it (string, int,
// float64, bool, []any or map[string]any) and the line it stands on.
type Option struct {
	Value any
	Line  int
	// Lines are the lines of the elements nested in Value, by their path
	// below the key: "[2]" for a list's third element, "[2].type" for a key
	// of that element, "temp" for a key of a mapping. nil when unknown.
	Lines map[string]int
}

// Options are a sensor's driver-specific keys. Drivers read them through the
// typed accessors, which record every error with its key and line; Err then
// reports them all at once, including keys the driver never asked for.
type Options struct {
	File   string
	Path   string // key path of the sensor entry in File, e.g. "sensors[2]"; prefixes keys in errors
	Driver string // the driver's name, for errors about unknown options
	// Common are the entry's common keys (name, interval, …), which a
	// misspelt key may have meant: Err suggests the closest of these and
	// of the options the driver asked for.
	Common []string
	Values map[string]Option
	used   map[string]bool
	errs   []error
}

// KeyPath returns key as it stands in the config file, under Path.
func (o *Options) KeyPath(key string) string {
	if o.Path == "" {
		return key
	}
	return o.Path + "." + key
}

// OptionError is a bad driver option: where it stands and what is wrong.
type OptionError struct {
	File string
	Line int
	Key  string
	Msg  string
	Err  error // optional sentinel the error matches with errors.Is (e.g. ErrUnknownDriver)
}

// Error reads "file:line: key: message", like every config error.
func (e *OptionError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// Unwrap returns the sentinel error, if any.
func (e *OptionError) Unwrap() error { return e.Err }

func (o *Options) get(key string) (Option, bool) {
	if o.used == nil {
		o.used = map[string]bool{}
	}
	o.used[key] = true
	v, ok := o.Values[key]
	return v, ok
}

func (o *Options) fail(key string, line int, format string, args ...any) {
	o.errs = append(o.errs, &OptionError{File: o.File, Line: line, Key: o.KeyPath(key), Msg: fmt.Sprintf(format, args...)})
}

// Has reports whether key is set, and marks it used.
func (o *Options) Has(key string) bool { _, ok := o.get(key); return ok }

// Required records an error when key is missing.
func (o *Options) Required(key string, line int) {
	if _, ok := o.get(key); !ok {
		o.fail(key, line, "missing required option")
	}
}

// String returns key's value, or def when it is absent.
func (o *Options) String(key, def string) string {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	switch x := v.Value.(type) {
	case string:
		return x
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(x)
	}
	o.fail(key, v.Line, "want a string, got %T", v.Value)
	return def
}

// Float returns key's value as a number, or def when it is absent.
func (o *Options) Float(key string, def float64) float64 {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	switch x := v.Value.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float64:
		return x
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return f
		}
	}
	o.fail(key, v.Line, "want a number, got %v", v.Value)
	return def
}

// Int returns key's value as an integer (decimal, 0x hex, 0o octal or 0b
// binary), or def when it is absent. A value int cannot hold (beyond 32 bits
// on 32-bit ARM) is an error, never truncated.
func (o *Options) Int(key string, def int) int {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	switch x := v.Value.(type) {
	case int:
		return x
	case int64:
		if x >= math.MinInt && x <= math.MaxInt {
			return int(x)
		}
	case uint64:
		if x <= math.MaxInt32 {
			return int(x)
		}
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt32 && x <= math.MaxInt32 {
			return int(x)
		}
	case string:
		if n, err := strconv.ParseInt(x, 0, strconv.IntSize); err == nil {
			return int(n)
		}
	}
	o.fail(key, v.Line, "want an integer, got %v", v.Value)
	return def
}

// Bool returns key's value, or def when it is absent.
func (o *Options) Bool(key string, def bool) bool {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	if b, ok := v.Value.(bool); ok {
		return b
	}
	o.fail(key, v.Line, "want true or false, got %v", v.Value)
	return def
}

// Duration returns key's value as a Go duration ("250ms", "10s"), or def.
func (o *Options) Duration(key string, def time.Duration) time.Duration {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	if s, ok := v.Value.(string); ok {
		if d, err := time.ParseDuration(s); err == nil && d >= 0 {
			return d
		}
	}
	o.fail(key, v.Line, "want a duration like 250ms or 10s, got %v", v.Value)
	return def
}

// Strings returns key's value as a list of strings, or def.
func (o *Options) Strings(key string, def []string) []string {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	list, ok := v.Value.([]any)
	if !ok {
		o.fail(key, v.Line, "want a list, got %v", v.Value)
		return def
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			o.fail(key, v.Line, "want a list of strings, got element %v", e)
			return def
		}
		out = append(out, s)
	}
	return out
}

// OneOf returns key's value, which must be one of allowed, or def.
func (o *Options) OneOf(key, def string, allowed ...string) string {
	s := o.String(key, def)
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	v := o.Values[key]
	o.fail(key, v.Line, "%q is not one of %v", s, allowed)
	return def
}

// Errorf records a driver's own error about key.
func (o *Options) Errorf(key string, format string, args ...any) {
	o.fail(key, o.Values[key].Line, format, args...)
}

// LineOf returns the line of the element at sub below key (see
// Option.Lines), or key's own line when the element's is unknown.
func (o *Options) LineOf(key, sub string) int {
	v := o.Values[key]
	if l, ok := v.Lines[sub]; ok {
		return l
	}
	return v.Line
}

// Element returns the options of m, a mapping nested in key's value at sub
// (like "[2]", a list's third element), for drivers whose option is a list
// of mappings: errors name its keys below key ("points[2].type") with their
// own lines where known, and Err reports its unknown keys. Key itself is
// not marked used.
func (o *Options) Element(key, sub string, m map[string]any) Options {
	line := o.LineOf(key, sub)
	e := Options{File: o.File, Path: o.KeyPath(key + sub), Driver: o.Driver, Values: make(map[string]Option, len(m))}
	for k, v := range m {
		l, ok := o.Values[key].Lines[sub+"."+k]
		if !ok {
			l = line
		}
		e.Values[k] = Option{Value: v, Line: l}
	}
	return e
}

// Err returns every error recorded so far plus one for each key no accessor
// asked for (a misspelt option), joined; nil when all is well.
func (o *Options) Err() error {
	var unknown []string
	for k := range o.Values {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	errs := append([]error(nil), o.errs...)
	driver := "this driver"
	if o.Driver != "" {
		driver = "driver " + o.Driver
	}
	for _, k := range unknown {
		msg := "unknown option for " + driver + o.suggest(k)
		errs = append(errs, &OptionError{File: o.File, Line: o.Values[k].Line, Key: o.KeyPath(k), Msg: msg})
	}
	return errors.Join(errs...)
}

// suggest returns ` (did you mean "x"?)` for the known key closest to key
// (the options the driver asked for and the common keys), or "".
func (o *Options) suggest(key string) string {
	known := append([]string(nil), o.Common...)
	for k := range o.used {
		known = append(known, k)
	}
	sort.Strings(known) // deterministic among equally close keys
	if best, ok := suggest.Closest(key, known); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
