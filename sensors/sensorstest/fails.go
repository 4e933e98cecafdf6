package sensorstest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/sensors"
)

// SenseFails checks the error paths drivers share, on a sensor whose device
// has gone (its bus answers no more): Sense fails, with an error starting
// with prefix, and no readings; with a cancelled context it fails with
// context.Canceled; after Halt, twice (their errors are the test's
// business), with sensors.ErrHalted.
func SenseFails(t testing.TB, s sensors.Sensor, prefix string) {
	t.Helper()
	if got, err := s.Sense(context.Background()); err == nil || got != nil || !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("Sense with the device gone = %v, %v; want an error starting with %q", got, err, prefix)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Sense with a cancelled context = %v, want context.Canceled", err)
	}
	s.Halt()
	s.Halt()
	if _, err := s.Sense(context.Background()); !errors.Is(err, sensors.ErrHalted) {
		t.Errorf("Sense after Halt = %v, want sensors.ErrHalted", err)
	}
}
