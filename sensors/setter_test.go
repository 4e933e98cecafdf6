package sensors_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// setterSensor is a QuantitySetter: "level" is writable from 0 to 100 (raw
// units), read back as written; "temp" is read-only.
type setterSensor struct {
	*sensorstest.Sensor
	mu     sync.Mutex
	values []float64
}

var errFakeRange = errors.New("fake: out of range")

func (s *setterSensor) Writable() []string { return []string{"level"} }

func (s *setterSensor) SetQuantity(_ context.Context, q string, v float64) (sensors.Reading, error) {
	if q != "level" || v < 0 || v > 100 {
		return sensors.Reading{}, fmt.Errorf("%w: %s = %v", errFakeRange, q, v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values = append(s.values, v)
	return sensors.Reading{Quantity: q, Value: v, Unit: "%"}, nil
}

func (s *setterSensor) written() []float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.values)
}

// TestPoller_Run_setQuantity: "<topic>/<quantity>/set" reaches SetQuantity
// with the spec's scale and offset undone, for writable quantities only;
// the value read back is published on "<topic>/<quantity>" with the
// processing applied, and every command's outcome on
// "<topic>/<quantity>/set/result"; a refused value and a bad payload are
// counted and write nothing.
func TestPoller_Run_setQuantity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &setterSensor{Sensor: sensorstest.NewSensor(ok(reading("level", 10, "%")))}
		spec := testSpec("tank")
		spec.Process = map[string]sensors.Process{"level": {Scale: 2, Offset: 1, Round: -1}}
		pub := &sensorstest.Publisher{}
		sub := &sensorstest.Subscriber{}
		p := sensors.NewPoller(spec, s, pub, sensors.PollerOptions{Subscriber: sub})
		stop := start(t, p)
		synctest.Wait()
		if f := sub.Filters(); !slices.Equal(f, []string{"sensors/tank/level/set"}) {
			t.Fatalf("filters %v, want the writable quantity's set topic", f)
		}
		pub.Reset()
		for _, payload := range []string{"41", `{"value": 61}`, "ON", "301", "lots"} {
			sub.Deliver("sensors/tank/level/set", []byte(payload))
			synctest.Wait()
		}
		stop()

		// 41 → (41-1)/2 = 20; 61 → 30; ON → 1 → 0; 301 → 150 refused.
		if got, want := s.written(), []float64{20, 30, 0}; !slices.Equal(got, want) {
			t.Errorf("written %v, want %v", got, want)
		}
		var readback []float64
		for _, m := range pub.Topic("sensors/tank/level") {
			var pl sensors.Payload
			if err := m.Decode(&pl); err != nil {
				t.Fatal(err)
			}
			readback = append(readback, pl.Value)
		}
		if want := []float64{41, 61, 1}; !slices.Equal(readback, want) {
			t.Errorf("published read back %v, want %v", readback, want)
		}
		var results []string
		for _, m := range pub.Topic("sensors/tank/level/set/result") {
			var r sensors.SetResult
			if err := m.Decode(&r); err != nil || m.Retain {
				t.Fatalf("result %s: %v, retained %v", m.Payload, err, m.Retain)
			}
			results = append(results, fmt.Sprint(r.OK, " ", r.Error))
		}
		want := []string{"true ", "true ", "true ",
			"false fake: out of range: level = 150",
			`false sensors: bad set payload: want a number, true/false, ON/OFF or {"value": x}, got "lots"`}
		if !slices.Equal(results, want) {
			t.Errorf("results\n%q\nwant\n%q", results, want)
		}
		if st := p.Stats(); st.Commands != 5 || st.CommandErrors != 2 {
			t.Errorf("Stats = %+v, want 5 commands, 2 errors", st)
		}
		if f := sub.Filters(); len(f) != 0 {
			t.Errorf("still subscribed after Run: %v", f)
		}
	})
}

func TestParseSetValue(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  bool
	}{
		{"21.5", 21.5, false}, {" -3 ", -3, false}, {`{"value": 7.25}`, 7.25, false}, {`{"value": true}`, 1, false},
		{"true", 1, false}, {"FALSE", 0, false}, {"ON", 1, false}, {"off", 0, false}, {"1", 1, false}, {"0", 0, false},
		{`{"value": "OFF"}`, 0, false},
		{"", 0, true}, {"NaN", 0, true}, {"+Inf", 0, true}, {"{}", 0, true}, {`{"v": 1}`, 0, true}, {"1e999", 0, true}, {"yes", 0, true},
	}
	for _, tt := range tests {
		got, err := sensors.ParseSetValue([]byte(tt.in))
		if (err != nil) != tt.err || got != tt.want || err != nil && !errors.Is(err, sensors.ErrBadCommand) {
			t.Errorf("ParseSetValue(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
