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

func TestOptions_Element(t *testing.T) {
	o := Options{File: "g.yaml", Path: "sensors[1]", Driver: "modbus", Values: map[string]Option{
		"points": {Value: []any{map[string]any{"quantity": "v", "adress": 3}}, Line: 10,
			Lines: map[string]int{"[0]": 11, "[0].quantity": 11, "[0].adress": 12}},
	}}
	if got := o.LineOf("points", "[0]"); got != 11 {
		t.Errorf("LineOf [0] = %d, want 11", got)
	}
	if got := o.LineOf("points", "[7]"); got != 10 {
		t.Errorf("LineOf [7] = %d, want the key's line 10", got)
	}
	e := o.Element("points", "[0]", o.Values["points"].Value.([]any)[0].(map[string]any))
	e.Required("address", o.LineOf("points", "[0]"))
	_ = e.String("quantity", "")
	err := e.Err()
	for _, want := range []string{
		"g.yaml:11: sensors[1].points[0].address: missing required option",
		`g.yaml:12: sensors[1].points[0].adress: unknown option for driver modbus (did you mean "address"?)`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Err = %v, want %q", err, want)
		}
	}
}
