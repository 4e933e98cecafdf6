package bridge

import (
	"errors"
	"fmt"
	"strings"

	"github.com/edgegw/edgegw/mqttcore/topic"
)

// Direction says which way a Rule bridges messages.
type Direction uint8

// Directions. Both is Out|In.
const (
	Out  Direction = 1 << iota // local → upstream
	In                         // upstream → local
	Both = Out | In
)

// ParseDirection parses the config spelling: "out", "in" or "both".
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "out":
		return Out, nil
	case "in":
		return In, nil
	case "both":
		return Both, nil
	}
	return 0, fmt.Errorf("bridge: direction %q: want out, in or both", s)
}

// String returns the config spelling.
func (d Direction) String() string {
	switch d {
	case Out:
		return "out"
	case In:
		return "in"
	case Both:
		return "both"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// Rule bridges the topics matching a pattern, with Mosquitto's bridge
// semantics: the local topic LocalPrefix+X corresponds to the remote topic
// RemotePrefix+X, where LocalPrefix+Pattern (locally) and RemotePrefix+Pattern
// (upstream) are the filters that select X. For example Pattern "sensors/#",
// LocalPrefix "" and RemotePrefix "gateways/pi/" send local
// "sensors/kitchen/temperature" to "gateways/pi/sensors/kitchen/temperature".
// An empty Pattern maps exactly one topic, LocalPrefix to RemotePrefix.
type Rule struct {
	// Pattern is a topic filter; it may use + and #.
	Pattern string
	// Direction is Out, In or Both.
	Direction Direction
	// QoS is the most the rule forwards at: out, a message goes upstream at
	// min(its QoS, QoS); in, it is the QoS of the upstream subscription.
	QoS byte
	// LocalPrefix and RemotePrefix are prepended to the pattern on either
	// side. They may not contain wildcards.
	LocalPrefix  string
	RemotePrefix string
}

func (r Rule) localFilter() string  { return r.LocalPrefix + r.Pattern }
func (r Rule) remoteFilter() string { return r.RemotePrefix + r.Pattern }

func (r Rule) validate() error {
	var errs []error
	if r.Direction == 0 || r.Direction&^Both != 0 {
		errs = append(errs, fmt.Errorf("direction %d: want out, in or both", r.Direction))
	}
	if r.QoS > 2 {
		errs = append(errs, fmt.Errorf("qos %d: want 0, 1 or 2", r.QoS))
	}
	for _, p := range []string{r.LocalPrefix, r.RemotePrefix} {
		if strings.ContainsAny(p, "+#") {
			errs = append(errs, fmt.Errorf("prefix %q: wildcards are not allowed", p))
		}
	}
	if err := topic.ValidateFilter(r.localFilter()); err != nil {
		errs = append(errs, fmt.Errorf("local filter %q: %w", r.localFilter(), err))
	}
	if err := topic.ValidateFilter(r.remoteFilter()); err != nil {
		errs = append(errs, fmt.Errorf("remote filter %q: %w", r.remoteFilter(), err))
	}
	if r.Pattern == "" && (r.LocalPrefix == "" || r.RemotePrefix == "") {
		errs = append(errs, errors.New("an empty pattern needs both prefixes"))
	}
	return errors.Join(errs...)
}

//

// matchOut returns the first out/both rule matching the local topic name
// and the remote topic it maps to.
func matchOut(rules []Rule, name string) (Rule, string, bool) {
	for _, r := range rules {
		// "p/#" matches "p" too: the name must start with the prefix.
		if r.Direction&Out != 0 && strings.HasPrefix(name, r.LocalPrefix) && topic.Match(r.localFilter(), name) {
			return r, r.RemotePrefix + name[len(r.LocalPrefix):], true
		}
	}
	return Rule{}, "", false
}

// matchIn returns the first in/both rule matching the remote topic name and
// the local topic it maps to.
func matchIn(rules []Rule, name string) (Rule, string, bool) {
	for _, r := range rules {
		if r.Direction&In != 0 && strings.HasPrefix(name, r.RemotePrefix) && topic.Match(r.remoteFilter(), name) {
			return r, r.LocalPrefix + name[len(r.RemotePrefix):], true
		}
	}
	return Rule{}, "", false
}
