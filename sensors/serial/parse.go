package serial

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/edgegw/edgegw/sensors"
)

// parser turns one line (trimmed, non-empty) into readings. nil readings
// with a nil error mean "well-formed, nothing to report".
type parser interface {
	parse(line string) ([]sensors.Reading, error)
}

// errChecksum marks a line whose checksum did not match; other parse errors
// are garbage.
var errChecksum = errors.New("serial: bad checksum")

func newParser(format, pattern string) (parser, error) {
	switch format {
	case "", "json":
		if pattern != "" {
			return nil, errors.New("serial: pattern is only used with format regex")
		}
		return jsonParser{}, nil
	case "nmea":
		if pattern != "" {
			return nil, errors.New("serial: pattern is only used with format regex")
		}
		return nmeaParser{}, nil
	case "regex":
		return newRegexParser(pattern)
	}
	return nil, fmt.Errorf("serial: unknown format %q (want one of %v)", format, Formats)
}

// number parses a finite float.
func number(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("serial: %q is not a finite number", s)
	}
	return f, nil
}

// round returns f rounded to n decimals (decimal rounding, as Process does).
func round(f float64, n int) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', n, 64), 64)
	return r
}
