package sensors_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// commanderSensor is a Commander with one command, "calibrate", whose
// payload is a reference and whose outcome is the reference minus 400 ppm;
// a reference of 0 fails, one of 1 gives NaN, one of 2 blocks until ctx is
// done (and records the time it had).
type commanderSensor struct {
	*sensorstest.Sensor
	mu       sync.Mutex
	payloads []string
	budget   time.Duration
}

func (c *commanderSensor) Commands() []string { return []string{"calibrate"} }

func (c *commanderSensor) Command(ctx context.Context, name string, payload []byte) (sensors.Reading, error) {
	c.mu.Lock()
	c.payloads = append(c.payloads, name+" "+string(payload))
	c.mu.Unlock()
	ref, err := strconv.ParseFloat(string(payload), 64)
	switch {
	case err != nil || ref == 0:
		return sensors.Reading{}, errors.New("fake: refused")
	case ref == 1:
		return sensors.Reading{Quantity: "correction", Value: math.NaN(), Unit: "ppm"}, nil
	case ref == 2:
		d, _ := ctx.Deadline()
		start := time.Now()
		<-ctx.Done()
		c.mu.Lock()
		c.budget = d.Sub(start)
		c.mu.Unlock()
		return sensors.Reading{}, ctx.Err()
	}
	return sensors.Reading{Quantity: "correction", Value: ref - 400, Unit: "ppm"}, nil
}

// TestPoller_Run_command: a Commander's "<topic>/<name>" reaches Command
// from the poll loop; each outcome goes, not retained, to
// "<topic>/<name>/result" with the value and unit, or the error; failures
// (refused, NaN, timed out after at least CommandTimeout) are counted.
func TestPoller_Run_command(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &commanderSensor{Sensor: sensorstest.NewSensor(ok(reading("co2", 420, "ppm")))}
		spec := testSpec("room")
		spec.Timeout = time.Second
		pub := &sensorstest.Publisher{}
		sub := &sensorstest.Subscriber{}
		p := sensors.NewPoller(spec, c, pub, sensors.PollerOptions{Subscriber: sub})
		stop := start(t, p)
		synctest.Wait()
		if f := sub.Filters(); !slices.Equal(f, []string{"sensors/room/calibrate"}) {
			t.Fatalf("filters %v, want the command's topic", f)
		}
		for _, payload := range []string{"450", "0", "1", "2"} {
			sub.Deliver("sensors/room/calibrate", []byte(payload))
			synctest.Wait()
			time.Sleep(sensors.CommandTimeout + time.Second)
			synctest.Wait()
		}
		stop()
		var results []string
		for _, m := range pub.Topic("sensors/room/calibrate/result") {
			var r sensors.SetResult
			if err := m.Decode(&r); err != nil || m.Retain {
				t.Fatalf("result %s: %v, retained %v", m.Payload, err, m.Retain)
			}
			v := "-"
			if r.Value != nil {
				v = fmt.Sprint(*r.Value)
			}
			results = append(results, fmt.Sprint(r.OK, " ", v, " ", r.Unit, " ", r.Error))
		}
		want := []string{"true 50 ppm ", "false -  fake: refused", "false -  sensors: calibrate: sensors: invalid value: NaN",
			"false -  sensors: calibrate timed out after 10s: context deadline exceeded"}
		if !slices.Equal(results, want) {
			t.Errorf("results\n%q\nwant\n%q", results, want)
		}
		if c.budget != sensors.CommandTimeout {
			t.Errorf("Command had %v, want CommandTimeout (the spec's timeout is shorter)", c.budget)
		}
		if st := p.Stats(); st.Commands != 4 || st.CommandErrors != 3 {
			t.Errorf("Stats = %+v, want 4 commands, 3 errors", st)
		}
	})
}

// followerSensor follows another sensor's temperature.
type followerSensor struct {
	*sensorstest.Sensor
	mu  sync.Mutex
	got []sensors.Reading
}

func (f *followerSensor) Follows() []string { return []string{"sensors/kitchen/temperature"} }
func (f *followerSensor) Follow(_ string, r sensors.Reading) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, r)
}

// TestPoller_Run_follow: a Follower's topics are subscribed while Run
// runs; readings published there reach Follow with the quantity, unit and
// time; payloads that are not readings do not.
func TestPoller_Run_follow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &followerSensor{Sensor: sensorstest.NewSensor(ok(reading("tvoc", 10, "ppb")))}
		sub := &sensorstest.Subscriber{}
		p := sensors.NewPoller(testSpec("air"), f, &sensorstest.Publisher{}, sensors.PollerOptions{Subscriber: sub})
		stop := start(t, p)
		synctest.Wait()
		if got := sub.Filters(); !slices.Equal(got, []string{"sensors/kitchen/temperature"}) {
			t.Fatalf("filters %v", got)
		}
		sub.Deliver("sensors/kitchen/temperature", []byte(`{"value": 21.5, "unit": "°C", "ts": "2026-12-02T10:00:00.000Z"}`))
		sub.Deliver("sensors/kitchen/temperature", []byte(`{"state": "ok"}`))
		sub.Deliver("sensors/kitchen/temperature", []byte(`garbage`))
		stop()
		want := sensors.Reading{Quantity: "temperature", Value: 21.5, Unit: "°C", Time: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
		if len(f.got) != 1 || f.got[0] != want {
			t.Fatalf("followed %+v, want %+v", f.got, want)
		}
		if got := sub.Filters(); len(got) != 0 {
			t.Fatalf("still subscribed after Run: %v", got)
		}
	})
}
