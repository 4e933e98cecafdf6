package sensors

import (
	"math"
	"testing"
	"time"
)

func TestProcess_Apply(t *testing.T) {
	tests := []struct {
		name string
		p    Process
		in   float64
		want float64
	}{
		{"default is identity", DefaultProcess(), 21.537, 21.537},
		{"zero value keeps the value, rounds to integer", Process{}, 21.537, 22},
		{"scale and offset", Process{Scale: 0.1, Offset: -40, Round: -1}, 625, 22.5},
		{"round 2", Process{Scale: 1, Round: 2}, 21.5371, 21.54},
		{"round 1 of binary-inexact", Process{Scale: 1, Round: 1}, 0.1 + 0.2, 0.3},
		{"round 0", Process{Scale: 1, Round: 0}, -2.5, -2},
		{"no negative zero", Process{Scale: 1, Round: 1}, -0.01, 0},
		{"round beyond 15 keeps precision", Process{Scale: 1, Round: 40}, 1.0 / 3, 1.0 / 3},
		{"fahrenheit", Process{Scale: 1.8, Offset: 32, Round: 1}, 21.5, 70.7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Apply(tt.in)
			if got != tt.want || math.Signbit(got) != math.Signbit(tt.want) {
				t.Errorf("Apply(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestProcessor_prepare_deadband(t *testing.T) {
	p := newProcessor(map[string]Process{"t": {Scale: 1, Round: -1, Deadband: 0.1}})
	now := time.Unix(1_800_000_000, 0)
	var got []float64
	for _, v := range []float64{0.2, 0.25, 0.3, 0.35, 0.45} {
		out, _, errs := p.prepare([]Reading{{Quantity: "t", Value: v}}, now)
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		for _, r := range out {
			got = append(got, r.Value)
		}
		now = now.Add(time.Second)
	}
	// 0.3-0.2 is 0.09999999999999998 in binary: it still reaches 0.1.
	want := []float64{0.2, 0.3, 0.45}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("published %v, want %v", got, want)
	}
}

func TestProcessor_prepare_staleOwnTime(t *testing.T) {
	p := newProcessor(nil)
	t0 := time.Unix(1_800_000_000, 0)
	fresh := Reading{Quantity: "q", Value: 1, Time: t0.Add(time.Second)}
	old := Reading{Quantity: "q", Value: 2, Time: t0}
	for i, tt := range []struct {
		r    Reading
		want int
	}{{fresh, 1}, {fresh, 0}, {old, 0}, {Reading{Quantity: "q", Value: 3}, 1}} {
		out, suppressed, _ := p.prepare([]Reading{tt.r}, t0)
		if len(out) != tt.want || len(out)+suppressed != 1 {
			t.Errorf("reading %d: published %d, suppressed %d; want %d published", i, len(out), suppressed, tt.want)
		}
	}
}
