package config

import (
	"reflect"
	"testing"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"HOST": "example.com", "EMPTY": "", "A_1": "x"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tt := range []struct {
		in, want string
		problems []string
	}{
		{"plain", "plain", nil},
		{"${HOST}", "example.com", nil},
		{"tcp://${HOST}:1883", "tcp://example.com:1883", nil},
		{"${A_1}${A_1}", "xx", nil},
		{"[${EMPTY}]", "[]", nil},
		{"$$", "$", nil},
		{"$${HOST}", "${HOST}", nil},
		{"$$$${HOST}", "$${HOST}", nil},
		{"cost $5", "cost $5", nil},
		{"trailing $", "trailing $", nil},
		{"$HOST", "$HOST", nil}, // only the ${NAME} form expands
		{"$2a$10$xmsuReUp1qO0rZR7xiW2n.Aq2fFbBvOql0m8GyisFQvGaQ01cqSTu", "$2a$10$xmsuReUp1qO0rZR7xiW2n.Aq2fFbBvOql0m8GyisFQvGaQ01cqSTu", nil},
		{"${NOPE}", "", []string{"environment variable NOPE is not set"}},
		{"${NOPE}/${HOST}/${NADA}", "/example.com/", []string{"environment variable NOPE is not set", "environment variable NADA is not set"}},
		{"${HOST", "", []string{`unterminated ${ in "${HOST" (write $$ for a literal $)`}},
		{"${}", "", []string{`bad environment variable name "" in ${…} (write $$ for a literal $)`}},
		{"${1A}", "", []string{`bad environment variable name "1A" in ${…} (write $$ for a literal $)`}},
		{"${A-B}", "", []string{`bad environment variable name "A-B" in ${…} (write $$ for a literal $)`}},
	} {
		got, problems := expand(tt.in, lookup)
		if got != tt.want && tt.problems == nil || !reflect.DeepEqual(problems, tt.problems) {
			t.Errorf("expand(%q) = %q, %q; want %q, %q", tt.in, got, problems, tt.want, tt.problems)
		}
	}
}

// TestParse_expandOnce checks that a value reached twice through a YAML
// alias is expanded once: $$$$ becomes $$, not $.
func TestParse_expandOnce(t *testing.T) {
	c := mustParse(t, `
x-anchor: &price "$$$$5"
gateway: {id: x}
sensors:
  - {name: a, driver: sim, price: *price}
  - {name: b, driver: sim, price: *price}
`)
	for _, s := range c.Sensors {
		if got := s.Options["price"].Value; got != "$$5" {
			t.Errorf("sensor %s price = %q, want $$5", s.Name, got)
		}
	}
}
