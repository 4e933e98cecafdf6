package sensorstest

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/sensors"
)

// Spec returns the config entry of a sensor named "s" of driver at line 10
// of gw.yaml, whose options stand on the lines given with them: what a
// driver's Check and Open tests need.
func Spec(driver string, opts map[string]sensors.Option) sensors.Spec {
	return sensors.Spec{Name: "s", Driver: driver, File: "gw.yaml", Line: 10,
		Options: sensors.Options{File: "gw.yaml", Driver: driver, Values: opts}}
}

// CheckErrors runs d.Check(spec) and fails the test unless its error holds
// every one of want; with no want, unless spec is valid.
func CheckErrors(t testing.TB, d sensors.Driver, spec sensors.Spec, want ...string) {
	t.Helper()
	err := d.Check(spec)
	if len(want) == 0 && err != nil {
		t.Errorf("Check(%v) = %v, want nil", spec.Options.Values, err)
	}
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Check(%v) = %v, want an error with %q", spec.Options.Values, err, w)
		}
	}
}
