package sensors_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// TestPoller_Last_keepsLastReadingPerQuantityAndError: Last holds the last
// published reading of every quantity (processed: rounded), sorted, and the
// last error with its time, which stays after the sensor recovers.
func TestPoller_Last_keepsLastReadingPerQuantityAndError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sensorstest.NewSensor(
			ok(reading("temperature", 21.04, "°C"), reading("humidity", 40, "%")),
			fail(errors.New("bus timeout")),
			ok(reading("temperature", 22.26, "°C")),
		)
		spec := testSpec("kitchen")
		spec.Process = map[string]sensors.Process{"temperature": {Scale: 1, Round: 1}}
		p := sensors.NewPoller(spec, s, &sensorstest.Publisher{}, sensors.PollerOptions{})
		if got := p.Last(); len(got.Readings) != 0 || got.Error != "" {
			t.Fatalf("Last before Run = %+v, want empty", got)
		}
		stop := start(t, p)
		synctest.Wait()
		failedAt := time.Now().Add(time.Second)
		sleep(time.Second) // the failure (backoff: the next poll a second later)
		sleep(time.Second)
		stop()

		got := p.Last()
		if len(got.Readings) != 2 || got.Readings[0].Quantity != "humidity" || got.Readings[1].Quantity != "temperature" {
			t.Fatalf("Last().Readings = %+v, want humidity then temperature", got.Readings)
		}
		if r := got.Readings[1]; r.Value != 22.3 || r.Unit != "°C" || r.Time.IsZero() {
			t.Errorf("temperature = %+v, want the last one, rounded: 22.3 °C, stamped", r)
		}
		if r := got.Readings[0]; r.Value != 40 {
			t.Errorf("humidity = %+v, want 40 from the first poll", r)
		}
		if got.Error != "bus timeout" || !got.ErrorTime.Equal(failedAt) {
			t.Errorf("Error, ErrorTime = %q, %v; want \"bus timeout\", %v", got.Error, got.ErrorTime, failedAt)
		}
		if p.Stats().Failing {
			t.Error("Stats().Failing after a good poll")
		}
	})
}
