package sensors

import (
	"strings"
	"testing"
)

func TestOptions_Int_range(t *testing.T) {
	o := Options{File: "g.yaml", Values: map[string]Option{
		"ok":     {Value: "0x76", Line: 1},
		"float":  {Value: 3.0, Line: 2},
		"frac":   {Value: 3.5, Line: 3},
		"huge":   {Value: 1e300, Line: 4},
		"str":    {Value: "99999999999999999999999", Line: 5},
		"uint64": {Value: uint64(1 << 40), Line: 6},
	}}
	if got := o.Int("ok", 0); got != 0x76 {
		t.Errorf("ok = %d", got)
	}
	if got := o.Int("float", 0); got != 3 {
		t.Errorf("float = %d", got)
	}
	for _, k := range []string{"frac", "huge", "str", "uint64"} {
		if got := o.Int(k, 7); got != 7 {
			t.Errorf("%s = %d, want the default 7", k, got)
		}
	}
	err := o.Err()
	for _, want := range []string{"g.yaml:3: frac", "g.yaml:4: huge", "g.yaml:5: str", "g.yaml:6: uint64"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Err = %v, want %q", err, want)
		}
	}
}
