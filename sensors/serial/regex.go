package serial

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/edgegw/edgegw/sensors"
)

// regexParser reads the named groups of a pattern as quantities.
type regexParser struct {
	re    *regexp.Regexp
	names []string // by group index; "" for unnamed groups
}

// newRegexParser compiles pattern and checks its named groups.
func newRegexParser(pattern string) (regexParser, error) {
	if pattern == "" {
		return regexParser{}, errors.New("serial: format regex needs a pattern")
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return regexParser{}, fmt.Errorf("serial: pattern: %w", err)
	}
	named := 0
	seen := map[string]bool{}
	for _, n := range re.SubexpNames() {
		if n == "" {
			continue
		}
		if err := sensors.ValidQuantity(n); err != nil {
			return regexParser{}, fmt.Errorf("serial: pattern group: %w", err)
		}
		if seen[n] {
			return regexParser{}, fmt.Errorf("serial: pattern: group %q appears twice", n)
		}
		seen[n] = true
		named++
	}
	if named == 0 {
		return regexParser{}, errors.New("serial: pattern has no named group like (?P<temperature>...)")
	}
	return regexParser{re: re, names: re.SubexpNames()}, nil
}

func (p regexParser) parse(line string) ([]sensors.Reading, error) {
	m := p.re.FindStringSubmatch(line)
	if m == nil {
		return nil, errors.New("serial: regex: no match")
	}
	var rs []sensors.Reading
	for i, name := range p.names {
		s := strings.TrimSpace(m[i])
		if name == "" || s == "" { // an optional group that did not take part
			continue
		}
		v, err := number(s)
		if err != nil {
			return nil, fmt.Errorf("serial: regex: group %s: %w", name, err)
		}
		rs = append(rs, sensors.Reading{Quantity: name, Value: v})
	}
	if len(rs) == 0 {
		return nil, errors.New("serial: regex: every named group is empty")
	}
	return rs, nil
}
