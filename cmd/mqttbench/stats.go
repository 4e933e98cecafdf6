package main

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"
)

// maxSeq bounds the sequence numbers a Tracker accepts, and so the memory of
// its bitsets (2^28 bits = 32 MiB per publisher); a scenario that sends more
// than this per publisher is refused up front by its configuration check.
const maxSeq = 1 << 28

// Tracker counts the messages a subscriber received, by (publisher,
// sequence number): how many were unique, how many were duplicates, and how
// many arrived after a higher sequence number of the same publisher. It is
// not safe for concurrent use.
type Tracker struct {
	seen [][]uint64 // per publisher, a bitset of the sequence numbers seen
	next []uint64   // per publisher, 1 + the highest sequence number seen

	// Unique counts distinct (publisher, seq) pairs.
	Unique int64
	// Duplicates counts messages whose pair had been seen before.
	Duplicates int64
	// Reordered counts messages whose sequence number is below one already
	// received from the same publisher (MQTT keeps one publisher's messages
	// on one topic in order [MQTT-4.6.0-5]; duplicates are not counted here).
	Reordered int64
	// Invalid counts messages with a publisher index or sequence number out
	// of range.
	Invalid int64
}

// NewTracker returns a Tracker for publishers 0 … publishers-1.
func NewTracker(publishers int) *Tracker {
	return &Tracker{seen: make([][]uint64, publishers), next: make([]uint64, publishers)}
}

// Add records one message and reports whether it was a duplicate.
func (t *Tracker) Add(pub uint32, seq uint64) (dup bool) {
	if int64(pub) >= int64(len(t.seen)) || seq >= maxSeq {
		t.Invalid++
		return false
	}
	set := t.seen[pub]
	word, bit := seq/64, uint64(1)<<(seq%64)
	if word >= uint64(len(set)) {
		set = slices.Grow(set, int(word)+1-len(set))[:word+1]
		t.seen[pub] = set
	}
	if set[word]&bit != 0 {
		t.Duplicates++
		return true
	}
	set[word] |= bit
	t.Unique++
	if seq+1 < t.next[pub] {
		t.Reordered++
	} else {
		t.next[pub] = seq + 1
	}
	return false
}

// Lost counts the messages that were sent but never received: sent[i] is how
// many messages publisher i sent, with sequence numbers 0 … sent[i]-1.
func (t *Tracker) Lost(sent []uint64) int64 {
	var lost int64
	for pub, n := range sent {
		lost += int64(n) - t.received(pub, n)
	}
	return lost
}

// received counts the sequence numbers below n seen from publisher pub.
func (t *Tracker) received(pub int, n uint64) int64 {
	if pub >= len(t.seen) {
		return 0
	}
	var got int64
	for w, word := range t.seen[pub] {
		lo := uint64(w) * 64
		if lo >= n {
			break
		}
		if n-lo < 64 {
			word &= (uint64(1) << (n - lo)) - 1
		}
		got += int64(bits.OnesCount64(word))
	}
	return got
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted, which must
// be sorted in increasing order, by the nearest-rank method: the smallest
// value such that at least p% of the values are less than or equal to it. It
// returns 0 for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Median returns the median of vs (the mean of the two middle values for an
// even count) without changing vs. NaN values, which stand for failed runs,
// are left out; with no value left Median returns NaN.
func Median(vs []float64) float64 {
	s := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) {
			s = append(s, v)
		}
	}
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// Worst returns the largest of vs, leaving out NaN values (NaN if none is
// left); loss and duplicate counts are summarised by their worst run.
func Worst(vs []float64) float64 {
	w := math.NaN()
	for _, v := range vs {
		if !math.IsNaN(v) && (math.IsNaN(w) || v > w) {
			w = v
		}
	}
	return w
}

// Latency summarises publish → deliver latencies.
type Latency struct {
	Samples int           `json:"samples"`
	P50     time.Duration `json:"p50_ns"`
	P99     time.Duration `json:"p99_ns"`
	Max     time.Duration `json:"max_ns"`
}

// Summarize sorts samples in place and returns their percentiles.
func Summarize(samples []time.Duration) Latency {
	slices.Sort(samples)
	l := Latency{Samples: len(samples), P50: Percentile(samples, 50), P99: Percentile(samples, 99)}
	if len(samples) > 0 {
		l.Max = samples[len(samples)-1]
	}
	return l
}

// String formats the summary for humans.
func (l Latency) String() string {
	return fmt.Sprintf("p50 %v  p99 %v  max %v  (%d samples)", round(l.P50), round(l.P99), round(l.Max), l.Samples)
}

// round shortens a duration for display: three significant digits or so.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= 10*time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d
}
