package config_test

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/config"
)

// TestParse_indentationError_line: an indentation mistake is reported at
// the line that is wrong, not at the key above it where yaml.v3 noticed it;
// other syntax errors keep yaml.v3's line.
func TestParse_indentationError_line(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string // prefix of the error
	}{
		{"key under a list item", "gateway:\n  id: x\n  data_dir: /d\nbroker:\n  listeners:\n    - address: 127.0.0.1:1883\n   sys_interval: 1s\n",
			"g.yaml:7: yaml syntax: did not find expected key: this line's indentation (3 spaces)"},
		{"key one space short", "gateway:\n  id: x\n data_dir: /d\n",
			"g.yaml:3: yaml syntax: did not find expected key"},
		{"sensor option one space short", "gateway:\n  id: x\n  data_dir: /d\nsensors:\n  - name: a\n    driver: sim\n   interval: 1s\n",
			"g.yaml:7: yaml syntax: did not find expected '-' indicator"},
		{"too deep: yaml.v3's line is right", "gateway:\n  id: x\n  data_dir: /d\nsensors:\n  - name: a\n    driver: sim\n     interval: 1s\n",
			"g.yaml:7: yaml syntax: mapping values are not allowed in this context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("g.yaml", []byte(tt.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want prefix %q", err, tt.want)
			}
		})
	}
}
