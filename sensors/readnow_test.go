package sensors_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// TestPoller_ReadNow: an extra read between two scheduled ones returns the
// processed readings without publishing them, in the poll loop (no
// overlapping Sense); with the poller stopped it returns ctx's error.
func TestPoller_ReadNow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sensorstest.NewSensor(ok(reading("temperature", 20, "°C")), ok(reading("temperature", 30, "°C")))
		pub := &sensorstest.Publisher{}
		spec := testSpec("k")
		spec.Interval = time.Hour
		spec.Process = map[string]sensors.Process{"temperature": {Scale: 2, Round: -1, Unit: "x"}}
		p := sensors.NewPoller(spec, s, pub, sensors.PollerOptions{ClockSynced: func() bool { return true }})
		stop := start(t, p)
		synctest.Wait()
		rs, err := p.ReadNow(t.Context())
		if err != nil || len(rs) != 1 || rs[0].Value != 60 || rs[0].Unit != "x" || rs[0].Time.IsZero() {
			t.Fatalf("ReadNow = %+v, %v; want the second reading, scaled, stamped", rs, err)
		}
		if n := len(pub.Topic("sensors/k/temperature")); n != 1 {
			t.Errorf("published %d readings, want only the scheduled one", n)
		}
		if s.Overlaps() != 0 {
			t.Errorf("overlapping sensor calls: %d", s.Overlaps())
		}
		stop()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := p.ReadNow(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ReadNow on a stopped poller: %v, want the deadline", err)
		}
	})
}
