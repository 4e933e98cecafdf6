package sensorstest

import (
	"math"
	"testing"

	"github.com/edgegw/edgegw/sensors"
)

// CheckReadings fails the test unless got has want's quantities and units,
// in order, with values within tol of want's.
func CheckReadings(t testing.TB, got, want []sensors.Reading, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d readings %+v, want %+v", len(got), got, want)
	}
	for i, w := range want {
		if g := got[i]; g.Quantity != w.Quantity || g.Unit != w.Unit || math.Abs(g.Value-w.Value) > tol {
			t.Errorf("reading %d = %+v, want %+v ± %v", i, g, w, tol)
		}
	}
}
