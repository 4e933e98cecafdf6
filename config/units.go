package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as a Go duration string ("250ms",
// "30s", "2m", "1h30m"). A bare number is an error: the unit is required.
type Duration time.Duration

// String formats d like time.Duration without trailing zero units: "2m", not
// "2m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	*d = v
	return nil
}

// Size is a number of bytes, written as a plain integer ("1000") or an
// integer with a unit: B, kB or KB (1000), MB, GB, TB (powers of 1000), KiB
// (1024), MiB, GiB, TiB (powers of 1024). "10KB" is 10000 bytes and "10KiB"
// 10240. A space between number and unit is allowed.
type Size int64

var sizeUnits = []struct {
	name string
	mult int64
}{
	{"TiB", 1 << 40}, {"TB", 1e12},
	{"GiB", 1 << 30}, {"GB", 1e9},
	{"MiB", 1 << 20}, {"MB", 1e6},
	{"KiB", 1 << 10}, {"KB", 1e3}, {"kB", 1e3},
	{"B", 1},
}

// ParseSize parses a size as described on Size.
func ParseSize(s string) (Size, error) {
	num, unit := splitNumber(strings.TrimSpace(s))
	mult := int64(1)
	if unit != "" {
		mult = 0
		for _, u := range sizeUnits {
			if u.name == unit {
				mult = u.mult
			}
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || mult == 0 || n < 0 {
		return 0, fmt.Errorf("bad size %q: want bytes like 1000, 10KB, 64MiB", s)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("bad size %q: too large", s)
	}
	return Size(n * mult), nil
}

// String formats s with the largest unit that divides it exactly ("64MiB",
// "10KB"), or as plain bytes.
func (s Size) String() string {
	for _, u := range sizeUnits {
		if u.name == "kB" || u.name == "B" {
			continue
		}
		if s != 0 && int64(s)%u.mult == 0 {
			return strconv.FormatInt(int64(s)/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// MarshalText implements encoding.TextMarshaler.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	*s = v
	return nil
}

//

// parseDuration parses a Go duration, with an error message fit for a
// config file.
func parseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, errors.New("bad duration " + strconv.Quote(s) + ": want a Go duration like 500ms, 30s or 2m")
	}
	return Duration(d), nil
}

// splitNumber splits "64MiB" or "64 MiB" into "64" and "MiB".
func splitNumber(s string) (num, unit string) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || i == 0 && (s[i] == '-' || s[i] == '+')) {
		i++
	}
	return s[:i], strings.TrimSpace(s[i:])
}
