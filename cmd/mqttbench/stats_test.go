package main

import (
	"errors"
	"math"
	"testing"
	"time"
)

// ms returns the durations of vs milliseconds.
func ms(vs ...int) []time.Duration {
	out := make([]time.Duration, len(vs))
	for i, v := range vs {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond // 1 … 100 ms
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", ms(7), 99, 7 * time.Millisecond},
		{"median of odd count", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"median of even count is the lower middle", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 1…100", hundred, 99, 99 * time.Millisecond},
		{"p50 of 1…100", hundred, 50, 50 * time.Millisecond},
		{"p100 is the maximum", hundred, 100, 100 * time.Millisecond},
		{"p99.9 of 1…100 rounds up to the maximum", hundred, 99.9, 100 * time.Millisecond},
		{"tiny p is the minimum", hundred, 0.001, 1 * time.Millisecond},
		{"p99 of ten values is the maximum", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(p=%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	samples := []time.Duration{5, 1, 4, 2, 3, 100}
	l := Summarize(samples)
	if l.Samples != 6 || l.P50 != 3 || l.P99 != 100 || l.Max != 100 {
		t.Errorf("Summarize = %+v, want 6 samples, p50 3ns, p99 100ns, max 100ns", l)
	}
	if z := Summarize(nil); z != (Latency{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", z)
	}
}

func TestMedian(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"odd", []float64{3, 1, 2}, 2},
		{"even is the mean of the middle two", []float64{4, 1, 3, 2}, 2.5},
		{"one", []float64{42}, 42},
		{"failed runs are left out", []float64{nan, 10, 30, nan}, 20},
		{"outlier does not move it", []float64{100, 101, 1e9}, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]float64(nil), tt.in...)
			if got := Median(in); got != tt.want {
				t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
			}
			for i := range in {
				if in[i] != tt.in[i] && !(math.IsNaN(in[i]) && math.IsNaN(tt.in[i])) {
					t.Fatalf("Median changed its input: %v, was %v", in, tt.in)
				}
			}
		})
	}
	if got := Median([]float64{nan}); !math.IsNaN(got) {
		t.Errorf("Median of only failed runs = %v, want NaN", got)
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
}

func TestWorst(t *testing.T) {
	if got := Worst([]float64{0, 3, math.NaN(), 1}); got != 3 {
		t.Errorf("Worst = %v, want 3", got)
	}
	if got := Worst([]float64{math.NaN()}); !math.IsNaN(got) {
		t.Errorf("Worst of only failed runs = %v, want NaN", got)
	}
}

func TestTracker_Add(t *testing.T) {
	tr := NewTracker(2)
	// Publisher 0 sends 0…4; 2 arrives twice, 3 never, 1 arrives after 4.
	for _, seq := range []uint64{0, 2, 2, 4, 1} {
		tr.Add(0, seq)
	}
	// Publisher 1 sends 0…129 (three bitset words), all in order, 64 twice.
	for seq := range uint64(130) {
		tr.Add(1, seq)
	}
	if !tr.Add(1, 64) {
		t.Error("Add(1, 64) a second time did not report a duplicate")
	}
	if tr.Add(0, 3) {
		t.Error("Add(0, 3) reported a duplicate for a first delivery")
	}
	// Now publisher 0 got 0, 1, 2, 3, 4: 3 arrived after 4, and 1 after 4.
	if tr.Unique != 5+130 {
		t.Errorf("Unique = %d, want %d", tr.Unique, 5+130)
	}
	if tr.Duplicates != 2 {
		t.Errorf("Duplicates = %d, want 2", tr.Duplicates)
	}
	if tr.Reordered != 2 {
		t.Errorf("Reordered = %d, want 2 (seq 1 and 3 after 4)", tr.Reordered)
	}
}

func TestTracker_Lost(t *testing.T) {
	tr := NewTracker(3)
	for _, seq := range []uint64{0, 1, 3, 63, 64, 127} { // publisher 0 sent 130
		tr.Add(0, seq)
	}
	tr.Add(1, 0) // publisher 1 sent 1: nothing lost
	// Publisher 2 sent 5, none arrived.
	sent := []uint64{130, 1, 5}
	if got, want := tr.Lost(sent), int64(130-6+0+5); got != want {
		t.Errorf("Lost = %d, want %d", got, want)
	}
	// A sequence number beyond what was sent is not counted as received.
	tr.Add(1, 200)
	if got, want := tr.Lost(sent), int64(130-6+0+5); got != want {
		t.Errorf("Lost after a stray sequence number = %d, want %d", got, want)
	}
	if got := tr.Lost([]uint64{0, 0, 0, 0}); got != 0 {
		t.Errorf("Lost with nothing sent and an unknown publisher = %d, want 0", got)
	}
}

func TestTracker_Add_invalid(t *testing.T) {
	tr := NewTracker(1)
	tr.Add(1, 0)      // no such publisher
	tr.Add(0, maxSeq) // beyond the bound: no 32 MiB+ bitset
	if tr.Invalid != 2 || tr.Unique != 0 || len(tr.seen[0]) != 0 {
		t.Errorf("Invalid = %d, Unique = %d, bitset words = %d; want 2, 0, 0", tr.Invalid, tr.Unique, len(tr.seen[0]))
	}
}

func TestHeader_roundTrip(t *testing.T) {
	b := make([]byte, 64)
	h := header{Run: 0xdeadbeef, Pub: 7, Seq: 1<<40 + 3, Sent: 123456789}
	putHeader(b, h)
	got, err := parseHeader(b, h.Run)
	if err != nil || got != h {
		t.Fatalf("parseHeader = %+v, %v; want %+v", got, err, h)
	}
	if _, err := parseHeader(b, h.Run+1); !errors.Is(err, errNotBench) {
		t.Errorf("parseHeader of another run: err = %v, want errNotBench", err)
	}
	if _, err := parseHeader(b[:headerSize-1], h.Run); !errors.Is(err, errNotBench) {
		t.Errorf("parseHeader of a short payload: err = %v, want errNotBench", err)
	}
}

func TestSubscriber_free(t *testing.T) {
	s := &subscriber{credits: make(chan struct{}, 10), freed: make([]uint64, 2)}
	for range 8 {
		s.credits <- struct{}{} // publisher 0 sent 0…4, publisher 1 sent 0…2
	}
	s.free(header{Pub: 0, Seq: 2}) // 0 and 1 were lost: three credits back
	if len(s.credits) != 5 {
		t.Fatalf("after seq 2 of publisher 0: %d credits held, want 5", len(s.credits))
	}
	s.free(header{Pub: 0, Seq: 1}) // late: already freed
	s.free(header{Pub: 1, Seq: 0})
	s.free(header{Pub: 9, Seq: 0}) // unknown publisher: ignored
	if len(s.credits) != 4 {
		t.Errorf("%d credits held, want 4", len(s.credits))
	}
}
