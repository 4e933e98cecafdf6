package topic

import (
	"errors"
	"testing"
)

func TestParseShared(t *testing.T) {
	for _, tt := range []struct {
		in           string
		name, filter string
		ok, bad      bool
	}{
		{in: "a/b"},
		{in: "$sharefoo/a"},
		{in: "$share/g/a/#", name: "g", filter: "a/#", ok: true},
		{in: "$share/g//", name: "g", filter: "/", ok: true},
		{in: "$share/g/+", name: "g", filter: "+", ok: true},
		{in: "$share", ok: true, bad: true},
		{in: "$share/g", ok: true, bad: true},
		{in: "$share//a", ok: true, bad: true},
		{in: "$share/g+/a", ok: true, bad: true},
		{in: "$share/#/a", ok: true, bad: true},
		{in: "$share/g/a/#/b", ok: true, bad: true},
		{in: "$share/g/", ok: true, bad: true}, // empty filter [MQTT-4.7.3-1]
	} {
		name, filter, ok, err := ParseShared(tt.in)
		if ok != tt.ok || (err != nil) != tt.bad || name != tt.name || filter != tt.filter {
			t.Errorf("ParseShared(%q) = %q, %q, %v, %v", tt.in, name, filter, ok, err)
		}
		if err != nil && !errors.Is(err, ErrShareName) {
			t.Errorf("ParseShared(%q): %v does not wrap ErrShareName", tt.in, err)
		}
		if tt.ok && !tt.bad && FilterOf(tt.in) != tt.filter {
			t.Errorf("FilterOf(%q) = %q", tt.in, FilterOf(tt.in))
		}
	}
}
