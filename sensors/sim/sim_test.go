package sim_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
	"github.com/edgegw/edgegw/sensors/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func newDev(t *testing.T, o sim.Opts) (*sim.Dev, *time.Time) {
	t.Helper()
	now := t0
	o.Now = func() time.Time { return now }
	d, err := sim.New(&o)
	if err != nil {
		t.Fatal(err)
	}
	return d, &now
}

func sense(t *testing.T, d *sim.Dev) map[string]sensors.Reading {
	t.Helper()
	rs, err := d.Sense(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]sensors.Reading{}
	for _, r := range rs {
		out[r.Quantity] = r
	}
	return out
}

var all = []string{"temperature", "humidity", "pressure", "voltage", "current", "power", "co2", "lux", "widgets"}

func TestDev_Sense_deterministic(t *testing.T) {
	for _, wave := range sim.Waveforms {
		t.Run(wave, func(t *testing.T) {
			o := sim.Opts{Quantities: all, Waveform: wave, Period: time.Minute, Seed: 7}
			a, nowA := newDev(t, o)
			b, nowB := newDev(t, o)
			o.Seed = 8
			c, nowC := newDev(t, o)
			differs := false
			for i := 0; i < 20; i++ {
				at := t0.Add(time.Duration(i) * 1700 * time.Millisecond)
				*nowA, *nowB, *nowC = at, at, at
				ra, rb, rc := sense(t, a), sense(t, b), sense(t, c)
				for _, q := range all {
					if ra[q] != rb[q] {
						t.Fatalf("same seed and time, different readings: %+v vs %+v", ra[q], rb[q])
					}
					if !ra[q].Time.Equal(at) {
						t.Fatalf("reading time %v, want the injected %v", ra[q].Time, at)
					}
					differs = differs || ra[q].Value != rc[q].Value
				}
			}
			if !differs {
				t.Error("seeds 7 and 8 gave identical readings")
			}
		})
	}
}

func TestDev_Sense_unitsAndRanges(t *testing.T) {
	want := map[string]struct {
		unit   string
		lo, hi float64
	}{
		"temperature": {"°C", 15, 25}, "humidity": {"%", 30, 70}, "pressure": {"hPa", 990, 1030},
		"voltage": {"V", 11.5, 12.8}, "current": {"A", 0, 2}, "power": {"W", 0, 500},
		"co2": {"ppm", 400, 1200}, "lux": {"lx", 0, 1000}, "widgets": {"", 0, 1},
	}
	for _, wave := range sim.Waveforms {
		d, now := newDev(t, sim.Opts{Quantities: all, Waveform: wave, Period: time.Minute, Seed: 3})
		lo, hi := map[string]float64{}, map[string]float64{}
		for i := 0; i < 600; i++ { // 10 periods every 1s
			*now = t0.Add(time.Duration(i) * time.Second)
			for q, r := range sense(t, d) {
				w := want[q]
				if r.Unit != w.unit || r.Value < w.lo || r.Value > w.hi || math.IsNaN(r.Value) {
					t.Fatalf("%s %s = %v %q, want %q in [%v, %v]", wave, q, r.Value, r.Unit, w.unit, w.lo, w.hi)
				}
				if i == 0 || r.Value < lo[q] {
					lo[q] = r.Value
				}
				if i == 0 || r.Value > hi[q] {
					hi[q] = r.Value
				}
			}
		}
		if wave == "random" {
			continue
		}
		for q, w := range want { // periodic waves sweep (nearly) the whole range
			span := w.hi - w.lo
			if lo[q] > w.lo+0.05*span || hi[q] < w.hi-0.05*span {
				t.Errorf("%s %s spans [%v, %v], want about [%v, %v]", wave, q, lo[q], hi[q], w.lo, w.hi)
			}
		}
	}
}

func TestDev_Sense_shapes(t *testing.T) {
	const period = 60 * time.Second
	at := func(d *sim.Dev, now *time.Time, off time.Duration) float64 {
		*now = t0.Add(off)
		return sense(t, d)["widgets"].Value
	}
	t.Run("periodic", func(t *testing.T) {
		for _, wave := range []string{"sine", "square", "sawtooth"} {
			d, now := newDev(t, sim.Opts{Quantities: []string{"widgets"}, Waveform: wave, Period: period, Seed: 1})
			for s := time.Duration(0); s < period; s += 7 * time.Second {
				if a, b := at(d, now, s), at(d, now, s+3*period); a != b {
					t.Errorf("%s: v(%v) = %v but v(%v + 3 periods) = %v", wave, s, a, s, b)
				}
			}
		}
	})
	t.Run("square is low or high", func(t *testing.T) {
		d, now := newDev(t, sim.Opts{Quantities: []string{"widgets"}, Waveform: "square", Period: period})
		highs := 0
		for s := time.Duration(0); s < period; s += time.Second {
			v := at(d, now, s)
			if v != 0 && v != 1 {
				t.Fatalf("square at %v = %v", s, v)
			}
			highs += int(v)
		}
		if highs != 30 {
			t.Errorf("square high %d s of 60, want 30", highs)
		}
	})
	t.Run("sawtooth rises and wraps once", func(t *testing.T) {
		d, now := newDev(t, sim.Opts{Quantities: []string{"widgets"}, Waveform: "sawtooth", Period: period, Seed: 5})
		drops, prev := 0, at(d, now, 0)
		for s := time.Second; s <= period; s += time.Second {
			v := at(d, now, s)
			if v < prev {
				drops++
			}
			prev = v
		}
		if drops != 1 {
			t.Errorf("sawtooth dropped %d times in a period, want 1", drops)
		}
	})
	t.Run("random never jumps", func(t *testing.T) {
		d, now := newDev(t, sim.Opts{Quantities: []string{"widgets"}, Waveform: "random", Period: 80 * time.Second, Seed: 9})
		prev := at(d, now, 0)
		distinct := map[float64]bool{}
		for s := time.Second; s < 10*time.Minute; s += time.Second {
			v := at(d, now, s)
			// Points 10 s apart span at most the whole range (1): 0.1 per s,
			// plus the 2-decimal rounding.
			if math.Abs(v-prev) > 0.1+0.01 {
				t.Fatalf("random jumped from %v to %v in 1s at %v", prev, v, s)
			}
			distinct[v] = true
			prev = v
		}
		if len(distinct) < 50 {
			t.Errorf("random took only %d distinct values in 10 minutes", len(distinct))
		}
	})
}

func TestNew_errors(t *testing.T) {
	tests := []struct {
		name string
		o    sim.Opts
		want string
	}{
		{"no quantities", sim.Opts{}, "no quantities"},
		{"bad waveform", sim.Opts{Quantities: []string{"t"}, Waveform: "triangle"}, `unknown waveform "triangle"`},
		{"negative period", sim.Opts{Quantities: []string{"t"}, Period: -time.Second}, "negative period"},
		{"bad quantity", sim.Opts{Quantities: []string{"a/b"}}, "bad quantity"},
		{"duplicate", sim.Opts{Quantities: []string{"t", "t"}}, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := sim.New(&tt.o); err == nil || !strings.Contains(err.Error(), tt.want) ||
				!strings.HasPrefix(err.Error(), "sim: ") {
				t.Errorf("New = %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func spec(opts map[string]sensors.Option) sensors.Spec {
	return sensors.Spec{Name: "demo", Driver: "sim", Interval: time.Second, File: "g.yaml", Line: 10,
		Options: sensors.Options{File: "g.yaml", Values: opts}}
}

func TestDriver_Check(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]sensors.Option
		want []string // substrings; none = valid
	}{
		{"defaults", nil, nil},
		{"all keys", map[string]sensors.Option{
			"quantities": {Value: []any{"temperature", "humidity"}, Line: 11},
			"waveform":   {Value: "square", Line: 12},
			"period":     {Value: "10s", Line: 13},
			"seed":       {Value: 42, Line: 14},
		}, nil},
		{"bad values", map[string]sensors.Option{
			"quantities": {Value: []any{"t", "t", "x/y"}, Line: 11},
			"waveform":   {Value: "sin", Line: 12},
			"period":     {Value: "0s", Line: 13},
			"sede":       {Value: 1, Line: 14},
		}, []string{
			`g.yaml:11: quantities: "t" listed twice`,
			"g.yaml:11: quantities: sensors: bad quantity name",
			`g.yaml:12: waveform: "sin" is not one of`,
			"g.yaml:13: period: must be positive",
			"g.yaml:14: sede: unknown option",
		}},
		{"empty list", map[string]sensors.Option{"quantities": {Value: []any{}, Line: 11}},
			[]string{"g.yaml:11: quantities: list at least one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sim.Driver().Check(spec(tt.opts))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Check = %v", err)
				}
				s, err := sim.Driver().Open(spec(tt.opts), &sensorstest.Hardware{})
				if err != nil || s == nil {
					t.Fatalf("Open = %v, %v", s, err)
				}
				return
			}
			if err == nil {
				t.Fatal("Check = nil")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if _, err := sim.Driver().Open(spec(tt.opts), &sensorstest.Hardware{}); err == nil {
				t.Error("Open accepted what Check rejected")
			}
		})
	}
}

// TestPoller_firstReadingImmediately runs the real poller on the real clock
// with an interval of an hour: the demo's readings can only appear because
// the first poll happens at once.
func TestPoller_firstReadingImmediately(t *testing.T) {
	reg := sensors.NewRegistry()
	if err := reg.Register("sim", sim.Driver()); err != nil {
		t.Fatal(err)
	}
	sp := spec(map[string]sensors.Option{"quantities": {Value: []any{"temperature", "humidity"}, Line: 11}})
	sp.Interval = time.Hour
	s, err := reg.Open(sp, &sensorstest.Hardware{})
	if err != nil {
		t.Fatal(err)
	}
	pub := &sensorstest.Publisher{}
	p := sensors.NewPoller(sp, s, pub, sensors.PollerOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	sensorstest.WaitFor(t, 10*time.Second, "first readings", func() bool {
		return len(pub.Topic("sensors/demo/temperature")) == 1 && len(pub.Topic("sensors/demo/humidity")) == 1
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var p0 sensors.Payload
	m, _ := pub.Last("sensors/demo/humidity")
	if err := m.Decode(&p0); err != nil || p0.Unit != "%" || p0.Value < 30 || p0.Value > 70 {
		t.Errorf("humidity payload %s (%v)", m.Payload, err)
	}
	if st := p.Stats(); st.Reads != 1 {
		t.Errorf("Reads = %d, want 1", st.Reads)
	}
}
