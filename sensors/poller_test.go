package sensors_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The poller tests run inside testing/synctest bubbles: time is fake and
// advances only when every goroutine of the bubble is blocked, so intervals
// and backoff delays are exact and the tests never wait on the wall clock.

func testSpec(name string) sensors.Spec {
	return sensors.Spec{Name: name, Driver: "fake", Interval: time.Second, Topic: "sensors/" + name, QoS: 1}
}

func reading(q string, v float64, unit string) sensors.Reading {
	return sensors.Reading{Quantity: q, Value: v, Unit: unit}
}

func ok(rs ...sensors.Reading) sensorstest.Step { return sensorstest.Step{Readings: rs} }

func fail(err error) sensorstest.Step { return sensorstest.Step{Err: err} }

// start runs p until the returned stop is called; stop checks Run's result.
func start(t *testing.T, p *sensors.Poller) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run = %v, want nil on cancellation", err)
		}
	}
}

// sleep advances the bubble's fake clock by d and lets every goroutine of
// the bubble settle.
func sleep(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func payloads(t *testing.T, pub *sensorstest.Publisher, topic string) []sensors.Payload {
	t.Helper()
	var out []sensors.Payload
	for _, m := range pub.Topic(topic) {
		var p sensors.Payload
		if err := m.Decode(&p); err != nil {
			t.Fatalf("%s: payload %s: %v", topic, m.Payload, err)
		}
		out = append(out, p)
	}
	return out
}

func statuses(t *testing.T, pub *sensorstest.Publisher, topic string) []sensors.Status {
	t.Helper()
	var out []sensors.Status
	for _, m := range pub.Topic(topic) {
		if !m.Retain {
			t.Errorf("%s not retained", topic)
		}
		var s sensors.Status
		if err := m.Decode(&s); err != nil {
			t.Fatalf("%s: payload %s: %v", topic, m.Payload, err)
		}
		out = append(out, s)
	}
	return out
}

func values(ps []sensors.Payload) []float64 {
	var out []float64
	for _, p := range ps {
		out = append(out, p.Value)
	}
	return out
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var tsFormat = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func TestPoller_Run_publishesReadings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sensorstest.NewSensor(ok(reading("temperature", 21.53, "°C"), reading("humidity", 40, "%")))
		pub := &sensorstest.Publisher{}
		spec := testSpec("kitchen")
		spec.Retain = true
		p := sensors.NewPoller(spec, s, pub, sensors.PollerOptions{ClockSynced: func() bool { return true }})
		stop := start(t, p)

		synctest.Wait() // no time has passed: the first reading is immediate
		if got := s.Senses(); got != 1 {
			t.Fatalf("Senses at start = %d, want 1", got)
		}
		sleep(2500 * time.Millisecond)
		stop()

		if got := s.Senses(); got != 3 {
			t.Errorf("Senses after 2.5 intervals = %d, want 3", got)
		}
		for _, m := range pub.Topic("sensors/kitchen/temperature") {
			if m.QoS != 1 || !m.Retain {
				t.Errorf("QoS/retain = %d/%v, want the spec's 1/true", m.QoS, m.Retain)
			}
		}
		temps := payloads(t, pub, "sensors/kitchen/temperature")
		if len(temps) != 3 {
			t.Fatalf("temperature messages = %d, want 3", len(temps))
		}
		first := temps[0]
		if first.Value != 21.53 || first.Unit != "°C" || first.Clock != "" {
			t.Errorf("payload = %+v", first)
		}
		if !tsFormat.MatchString(first.TS) {
			t.Errorf("ts %q is not RFC 3339 UTC with milliseconds", first.TS)
		}
		if temps[1].TS == first.TS {
			t.Error("second reading has the first one's timestamp")
		}
		if h := payloads(t, pub, "sensors/kitchen/humidity"); len(h) != 3 || h[0].Unit != "%" {
			t.Errorf("humidity = %+v", h)
		}
		st := p.Stats()
		if st.Reads != 3 || st.Published != 6 || st.Errors != 0 || st.Failing {
			t.Errorf("Stats = %+v", st)
		}
		if s.Halts() != 1 {
			t.Errorf("Halts = %d, want 1", s.Halts())
		}
		if s.Overlaps() != 0 {
			t.Errorf("overlapping sensor calls: %d", s.Overlaps())
		}
	})
}

func TestPoller_Run_payloadBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := time.Date(2026, 11, 22, 11, 0, 0, 123456789, time.FixedZone("CET", 3600))
		r := sensors.Reading{Quantity: "temperature", Value: 21.53, Unit: "°C", Time: at}
		pub := &sensorstest.Publisher{}
		p := sensors.NewPoller(testSpec("k"), sensorstest.NewSensor(ok(r)), pub,
			sensors.PollerOptions{ClockSynced: func() bool { return true }})
		stop := start(t, p)
		synctest.Wait()
		stop()
		m, found := pub.Last("sensors/k/temperature")
		want := `{"value":21.53,"unit":"°C","ts":"2026-11-22T10:00:00.123Z"}`
		if !found || string(m.Payload) != want {
			t.Errorf("payload = %s, want %s", m.Payload, want)
		}
	})
}

func TestPoller_Run_clockUnsynced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pub := &sensorstest.Publisher{}
		var synced atomic.Bool
		p := sensors.NewPoller(testSpec("k"), sensorstest.NewSensor(ok(reading("t", 1, ""))), pub,
			sensors.PollerOptions{ClockSynced: synced.Load})
		stop := start(t, p)
		synctest.Wait()
		synced.Store(true)
		sleep(time.Second)
		stop()
		ps := payloads(t, pub, "sensors/k/t")
		if len(ps) != 2 || ps[0].Clock != sensors.ClockUnsynced || ps[1].Clock != "" {
			t.Errorf("payloads = %+v, want clock unsynced then absent", ps)
		}
	})
}

// TestPoller_Run_errorBackoff checks the retry schedule, the status topic and
// that the failure is logged once, not on every poll.
func TestPoller_Run_errorBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("fake: bus stuck")
		good := ok(reading("t", 20, "°C"))
		s := sensorstest.NewSensor(good, fail(boom), fail(boom), fail(boom), fail(boom), fail(boom), good)
		pub := &sensorstest.Publisher{}
		var logs sensorstest.Logs
		t0 := time.Now()
		p := sensors.NewPoller(testSpec("x"), s, pub, sensors.PollerOptions{Logger: logs.Logger()})
		stop := start(t, p)
		sleep(27500 * time.Millisecond)
		stop()

		// ok at 0, fail at 1; retries after 1, 2, 4, 8, then the 10×interval
		// cap; back to every interval after the recovery at 26.
		want := []float64{0, 1, 2, 4, 8, 16, 26, 27}
		var got []float64
		for _, at := range s.SenseTimes() {
			got = append(got, at.Sub(t0).Seconds())
		}
		if !equal(got, want) {
			t.Fatalf("Sense at %v s, want %v s", got, want)
		}

		if n := logs.Count(slog.LevelWarn, "sensor read failed"); n != 1 {
			t.Errorf("Warn 'sensor read failed' logged %d times, want 1", n)
		}
		if n := logs.Count(slog.LevelDebug, "sensor read still failing"); n != 4 {
			t.Errorf("Debug 'still failing' logged %d times, want 4", n)
		}
		if n := logs.Count(slog.LevelInfo, "sensor read recovered"); n != 1 {
			t.Errorf("Info 'sensor read recovered' logged %d times, want 1", n)
		}
		for _, r := range logs.Records() {
			if r.Message == "sensor read failed" && (r.Attrs["sensor"] != "x" || r.Attrs["err"] == nil) {
				t.Errorf("failure log attrs = %v, want sensor and err", r.Attrs)
			}
		}

		sts := statuses(t, pub, "sensors/x/status")
		if len(sts) != 3 || sts[0].State != "ok" || sts[1].State != "error" || sts[2].State != "ok" {
			t.Fatalf("statuses = %+v, want ok, error, ok", sts)
		}
		if sts[1].Error != boom.Error() || sts[0].Error != "" || !tsFormat.MatchString(sts[1].TS) {
			t.Errorf("error status = %+v", sts[1])
		}
		if st := p.Stats(); st.Reads != 8 || st.Errors != 5 || st.Failing {
			t.Errorf("Stats = %+v", st)
		}
	})
}

func TestPoller_Run_maxBackoffOption(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sensorstest.NewSensor(fail(errors.New("fake: gone")))
		p := sensors.NewPoller(testSpec("x"), s, &sensorstest.Publisher{}, sensors.PollerOptions{MaxBackoff: 3 * time.Second})
		stop := start(t, p)
		sleep(20500 * time.Millisecond)
		stop()
		// 0, 1, 3, 6, 9, 12, 15, 18: delays 1, 2, then capped at 3.
		if n := s.Senses(); n != 8 {
			t.Errorf("Senses = %d, want 8 with delays capped at 3s", n)
		}
	})
}

// TestPoller_Run_partialReadings: one probe of several failing publishes the
// others at the normal interval, with the status in error.
func TestPoller_Run_partialReadings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sensorstest.NewSensor(sensorstest.Step{
			Readings: []sensors.Reading{reading("a", 1, "")},
			Err:      errors.New("fake: probe b removed"),
		})
		pub := &sensorstest.Publisher{}
		p := sensors.NewPoller(testSpec("x"), s, pub, sensors.PollerOptions{})
		stop := start(t, p)
		sleep(3500 * time.Millisecond)
		stop()
		if n := s.Senses(); n != 4 {
			t.Errorf("Senses = %d, want 4 (no backoff with partial readings)", n)
		}
		if n := len(pub.Topic("sensors/x/a")); n != 4 {
			t.Errorf("published %d readings of a, want 4", n)
		}
		if sts := statuses(t, pub, "sensors/x/status"); len(sts) != 1 || sts[0].State != "error" {
			t.Errorf("statuses = %+v, want one error", sts)
		}
	})
}

func TestPoller_Run_invalidValues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sensorstest.NewSensor(ok(
			reading("nan", math.NaN(), ""),
			reading("inf", math.Inf(-1), ""),
			reading("a/b", 1, ""),
			reading("status", 1, ""),
			reading("good", 2, ""),
		))
		pub := &sensorstest.Publisher{}
		p := sensors.NewPoller(testSpec("x"), s, pub, sensors.PollerOptions{})
		stop := start(t, p)
		synctest.Wait()
		stop()
		for _, m := range pub.Messages() {
			switch m.Topic {
			case "sensors/x/good", "sensors/x/status":
			default:
				t.Errorf("published %s %s", m.Topic, m.Payload)
			}
		}
		if len(pub.Topic("sensors/x/good")) != 1 {
			t.Error("the valid reading was not published")
		}
		sts := statuses(t, pub, "sensors/x/status")
		if len(sts) != 1 || sts[0].State != "error" || !strings.Contains(sts[0].Error, "invalid value") ||
			!strings.Contains(sts[0].Error, "bad quantity") {
			t.Errorf("statuses = %+v", sts)
		}
		if st := p.Stats(); st.Errors != 4 || st.Published != 1 {
			t.Errorf("Stats = %+v, want 4 errors, 1 published", st)
		}
	})
}

func TestPoller_Run_process(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sensorstest.NewSensor(ok(reading("raw", 2153, "cK"), reading("other", 1.23456, "V")))
		pub := &sensorstest.Publisher{}
		spec := testSpec("x")
		spec.Process = map[string]sensors.Process{
			"raw": {Scale: 0.01, Offset: -0.03, Round: 1, Unit: "°C"},
		}
		p := sensors.NewPoller(spec, s, pub, sensors.PollerOptions{})
		stop := start(t, p)
		synctest.Wait()
		stop()
		if ps := payloads(t, pub, "sensors/x/raw"); len(ps) != 1 || ps[0].Value != 21.5 || ps[0].Unit != "°C" {
			t.Errorf("processed = %+v, want 21.5 °C", ps)
		}
		if ps := payloads(t, pub, "sensors/x/other"); len(ps) != 1 || ps[0].Value != 1.23456 || ps[0].Unit != "V" {
			t.Errorf("unprocessed = %+v, want 1.23456 V", ps)
		}
	})
}

func TestPoller_Run_deadband(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var steps []sensorstest.Step
		for _, v := range []float64{20, 20.05, 20.2, 20.25, 20.3, 20.4, 19.9} {
			steps = append(steps, ok(reading("t", v, "°C")))
		}
		s := sensorstest.NewSensor(steps...)
		pub := &sensorstest.Publisher{}
		spec := testSpec("x")
		spec.Process = map[string]sensors.Process{"t": {Scale: 1, Round: -1, Deadband: 0.2}}
		p := sensors.NewPoller(spec, s, pub, sensors.PollerOptions{})
		stop := start(t, p)
		sleep(6500 * time.Millisecond)
		stop()
		want := []float64{20, 20.2, 20.4, 19.9}
		if got := values(payloads(t, pub, "sensors/x/t")); !equal(got, want) {
			t.Errorf("published %v, want %v", got, want)
		}
		if st := p.Stats(); st.Suppressed != 3 || st.Published != 4 {
			t.Errorf("Stats = %+v, want 3 suppressed", st)
		}
	})
}

func TestPoller_Run_deadbandMaxInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sensorstest.NewSensor(ok(reading("t", 20, "°C")))
		pub := &sensorstest.Publisher{}
		spec := testSpec("x")
		spec.Process = map[string]sensors.Process{"t": {Scale: 1, Round: -1, Deadband: 0.5, MaxInterval: 5 * time.Second}}
		t0 := time.Now()
		p := sensors.NewPoller(spec, s, pub, sensors.PollerOptions{})
		stop := start(t, p)
		sleep(12500 * time.Millisecond)
		stop()
		var at []time.Duration
		for _, ps := range payloads(t, pub, "sensors/x/t") {
			ts, err := time.Parse(time.RFC3339Nano, ps.TS)
			if err != nil {
				t.Fatal(err)
			}
			at = append(at, ts.Sub(t0))
		}
		want := []time.Duration{0, 5 * time.Second, 10 * time.Second}
		if len(at) != len(want) || at[0] != want[0] || at[1] != want[1] || at[2] != want[2] {
			t.Errorf("an unchanged value was published at %v, want %v", at, want)
		}
	})
}

func TestPoller_Run_timeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		never := make(chan struct{})
		s := sensorstest.NewSensor(sensorstest.Step{Block: never}) // honours ctx
		pub := &sensorstest.Publisher{}
		spec := testSpec("x")
		spec.Timeout = 300 * time.Millisecond
		p := sensors.NewPoller(spec, s, pub, sensors.PollerOptions{})
		stop := start(t, p)
		sleep(500 * time.Millisecond)
		stop()
		sts := statuses(t, pub, "sensors/x/status")
		if len(sts) != 1 || !strings.Contains(sts[0].Error, "read timed out after 300ms") {
			t.Errorf("statuses = %+v, want a timeout error", sts)
		}
	})
}

// TestPoller_Run_senseIgnoresCtx: Run returns after StopTimeout even though
// Sense is stuck, and Halt follows once Sense returns, never during it.
func TestPoller_Run_senseIgnoresCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		s := sensorstest.NewSensor(sensorstest.Step{Block: release, IgnoreCtx: true})
		var logs sensorstest.Logs
		p := sensors.NewPoller(testSpec("x"), s, &sensorstest.Publisher{},
			sensors.PollerOptions{StopTimeout: 3 * time.Second, Logger: logs.Logger()})
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- p.Run(ctx) }()
		synctest.Wait()
		t0 := time.Now()
		cancel()
		if err := <-errc; err != nil {
			t.Fatalf("Run = %v", err)
		}
		if waited := time.Since(t0); waited != 3*time.Second {
			t.Errorf("Run returned after %v, want the 3s StopTimeout", waited)
		}
		if s.Halts() != 0 {
			t.Error("Halt called while Sense was still running")
		}
		if logs.Count(slog.LevelError, "sensor call ignores cancellation; it will be halted when the call returns") != 1 {
			t.Errorf("stuck sensor not logged: %+v", logs.Records())
		}
		close(release)
		synctest.Wait()
		if s.Halts() != 1 || s.Overlaps() != 0 {
			t.Errorf("Halts = %d, Overlaps = %d, want 1, 0", s.Halts(), s.Overlaps())
		}
	})
}

func TestPoller_Run_publishErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sensorstest.NewSensor(ok(reading("t", 1, "")))
		pub := &sensorstest.Publisher{}
		pub.SetErr(errors.New("fake: queue full"))
		var logs sensorstest.Logs
		p := sensors.NewPoller(testSpec("x"), s, pub, sensors.PollerOptions{Logger: logs.Logger()})
		stop := start(t, p)
		sleep(2500 * time.Millisecond)
		pub.SetErr(nil)
		sleep(time.Second)
		stop()
		if n := logs.Count(slog.LevelWarn, "publish failed"); n != 1 {
			t.Errorf("publish failure logged %d times at Warn, want 1", n)
		}
		if n := logs.Count(slog.LevelInfo, "publish recovered"); n != 1 {
			t.Errorf("publish recovery logged %d times, want 1", n)
		}
		// 3 polls × (reading) + the first status, all failed.
		if st := p.Stats(); st.PublishErrors != 4 || st.Published != 1 {
			t.Errorf("Stats = %+v, want 4 publish errors, 1 published", st)
		}
	})
}

func TestPoller_Run_watcher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		edge := sensors.Reading{Quantity: "door", Value: 1, Time: time.Now()}
		// Sense reports the latest state, which Watch already published.
		w := sensorstest.NewWatchSensor(ok(edge))
		pub := &sensorstest.Publisher{}
		var logs sensorstest.Logs
		p := sensors.NewPoller(testSpec("x"), w, pub, sensors.PollerOptions{Logger: logs.Logger()})
		stop := start(t, p)
		ctx := t.Context()
		synctest.Wait()
		if w.Watches() != 1 {
			t.Fatalf("Watches = %d, want 1", w.Watches())
		}
		// Sense at 0 published edge; Watch reports a newer change.
		w.Emit(ctx, sensors.Reading{Quantity: "door", Value: 0})
		synctest.Wait()
		if got := values(payloads(t, pub, "sensors/x/door")); !equal(got, []float64{1, 0}) {
			t.Fatalf("door = %v, want [1 0]", got)
		}

		// Watch fails twice: restarted after 1s, then 2s; logged once.
		w.Fail(ctx, errors.New("fake: edge detection lost"))
		sleep(1500 * time.Millisecond)
		w.Fail(ctx, errors.New("fake: edge detection lost"))
		sleep(1500 * time.Millisecond)
		if w.Watches() != 2 {
			t.Fatalf("Watches = %d after 1.5s of a 2s backoff, want 2", w.Watches())
		}
		sleep(time.Second)
		if w.Watches() != 3 {
			t.Fatalf("Watches = %d, want 3", w.Watches())
		}
		w.Emit(ctx, sensors.Reading{Quantity: "door", Value: 1})
		synctest.Wait()
		stop()
		if n := logs.Count(slog.LevelWarn, "sensor watch failed"); n != 1 {
			t.Errorf("watch failure logged %d times at Warn, want 1", n)
		}
		if n := logs.Count(slog.LevelInfo, "sensor watch recovered"); n != 1 {
			t.Errorf("watch recovery logged %d times, want 1", n)
		}
		st := p.Stats()
		if st.WatchErrors != 2 || st.Emitted != 2 {
			t.Errorf("Stats = %+v", st)
		}
		// Sense polled 5 times, each reporting edge with its old timestamp:
		// only the first was published, the rest were stale.
		if got := values(payloads(t, pub, "sensors/x/door")); !equal(got, []float64{1, 0, 1}) {
			t.Errorf("door = %v, want [1 0 1]", got)
		}
		if st.Suppressed != uint64(w.Senses()-1) {
			t.Errorf("Suppressed = %d, want %d repeats", st.Suppressed, w.Senses()-1)
		}
	})
}

func TestPoller_Run_actuator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := sensorstest.NewActuatorSensor(func(payload []byte) ([]sensors.Reading, error) {
			switch string(payload) {
			case "1":
				return []sensors.Reading{{Quantity: "state", Value: 1}}, nil
			case "0":
				return []sensors.Reading{{Quantity: "state", Value: 0}}, nil
			}
			return nil, errors.New("fake: bad command")
		}, ok(reading("state", 0, "")))
		pub := &sensorstest.Publisher{}
		sub := &sensorstest.Subscriber{}
		p := sensors.NewPoller(testSpec("relay"), a, pub, sensors.PollerOptions{Subscriber: sub})
		stop := start(t, p)
		synctest.Wait()
		if n := sub.Deliver("sensors/relay/set", []byte("1")); n != 1 {
			t.Fatalf("set topic delivered to %d subscribers, want 1 (filters %v)", n, sub.Filters())
		}
		synctest.Wait()
		sub.Deliver("sensors/relay/set", []byte("nonsense"))
		synctest.Wait()
		stop()

		if got := a.Payloads(); len(got) != 2 || string(got[0]) != "1" {
			t.Errorf("Set payloads = %q", got)
		}
		var states []sensorstest.Message
		for _, m := range pub.Topic("sensors/relay/state") {
			if m.Retain {
				states = append(states, m)
			}
		}
		if len(states) != 1 {
			t.Fatalf("retained states = %d, want 1", len(states))
		}
		var ps sensors.Payload
		if err := states[0].Decode(&ps); err != nil || ps.Value != 1 {
			t.Errorf("state = %s (%v), want value 1", states[0].Payload, err)
		}
		if st := p.Stats(); st.Commands != 2 || st.CommandErrors != 1 {
			t.Errorf("Stats = %+v", st)
		}
		if f := sub.Filters(); len(f) != 0 {
			t.Errorf("still subscribed after Run: %v", f)
		}
		if a.Overlaps() != 0 {
			t.Errorf("Set overlapped Sense or Halt %d times", a.Overlaps())
		}
	})
}

func TestPoller_Run_errors(t *testing.T) {
	s := sensorstest.NewSensor()
	pub := &sensorstest.Publisher{}
	bad := testSpec("x")
	bad.Interval = 0
	if err := sensors.NewPoller(bad, s, pub, sensors.PollerOptions{}).Run(t.Context()); err == nil ||
		!strings.Contains(err.Error(), "interval") {
		t.Errorf("zero interval: Run = %v", err)
	}
	if err := sensors.NewPoller(testSpec("x"), s, nil, sensors.PollerOptions{}).Run(t.Context()); err == nil {
		t.Error("nil publisher: Run = nil")
	}
	a := sensorstest.NewActuatorSensor(func([]byte) ([]sensors.Reading, error) { return nil, nil })
	sub := &sensorstest.Subscriber{Err: errors.New("fake: not authorized")}
	if err := sensors.NewPoller(testSpec("x"), a, pub, sensors.PollerOptions{Subscriber: sub}).Run(t.Context()); err == nil ||
		!strings.Contains(err.Error(), "sensors/x/set") {
		t.Errorf("failed subscription: Run = %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	p := sensors.NewPoller(testSpec("x"), s, pub, sensors.PollerOptions{})
	if err := p.Run(ctx); err != nil {
		t.Fatalf("first Run = %v", err)
	}
	if err := p.Run(ctx); !errors.Is(err, sensors.ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	if s.Halts() != 1 {
		t.Errorf("Halts = %d, want 1", s.Halts())
	}
}

func TestPoller_Run_defaultTopic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		spec := testSpec("garden")
		spec.Topic = ""
		pub := &sensorstest.Publisher{}
		p := sensors.NewPoller(spec, sensorstest.NewSensor(ok(reading("t", 1, ""))), pub, sensors.PollerOptions{})
		stop := start(t, p)
		synctest.Wait()
		stop()
		if len(pub.Topic("sensors/garden/t")) != 1 {
			t.Errorf("messages = %v, want one on sensors/garden/t", pub.Messages())
		}
	})
}

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
