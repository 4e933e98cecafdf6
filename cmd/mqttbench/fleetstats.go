package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// stormBucket is the resolution of the connection counts at the upstream.
const stormBucket = 100 * time.Millisecond

// acceptLog records when the fleet's front door (the gate before the
// upstream) accepted connections, forwarded (open) or dropped (shut).
// Safe for concurrent use.
type acceptLog struct {
	mu           sync.Mutex
	open, closed []time.Time
}

// Note records one accepted connection; it is the gate's onAccept.
func (a *acceptLog) Note(open bool) {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if open {
		a.open = append(a.open, now)
	} else {
		a.closed = append(a.closed, now)
	}
}

// Between returns the offsets from from of the connections accepted in
// [from, to), forwarded or dropped.
func (a *acceptLog) Between(open bool, from, to time.Time) []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	ts := a.closed
	if open {
		ts = a.open
	}
	var ds []time.Duration
	for _, t := range ts {
		if !t.Before(from) && t.Before(to) {
			ds = append(ds, t.Sub(from))
		}
	}
	return ds
}

// Storm is the shape of a burst of connections: how many, when (offsets
// from a start), and the densest 100 ms and 1 s.
type Storm struct {
	Count int `json:"count"`
	// First, P50, P90 and Last are offsets of the connections.
	First time.Duration `json:"first_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	Last  time.Duration `json:"last_ns"`
	// Peak100ms is the most connections in one 100 ms bucket; PeakPerSec
	// the most in any 1 s (ten consecutive buckets).
	Peak100ms  int `json:"peak_100ms"`
	PeakPerSec int `json:"peak_per_s"`
	// PerSecond counts the connections in each second from the start.
	PerSecond []int `json:"per_second"`
}

// newStorm summarises offsets.
func newStorm(ds []time.Duration) Storm {
	s := Storm{Count: len(ds)}
	if len(ds) == 0 {
		return s
	}
	slices.Sort(ds)
	s.First, s.Last = ds[0], ds[len(ds)-1]
	s.P50, s.P90 = Percentile(ds, 50), Percentile(ds, 90)
	buckets := make([]int, s.Last/stormBucket+1)
	s.PerSecond = make([]int, s.Last/time.Second+1)
	for _, d := range ds {
		buckets[d/stormBucket]++
		s.PerSecond[d/time.Second]++
	}
	perSec := int(time.Second / stormBucket)
	window := 0
	for i, n := range buckets {
		s.Peak100ms = max(s.Peak100ms, n)
		window += n
		if i >= perSec {
			window -= buckets[i-perSec]
		}
		s.PeakPerSec = max(s.PeakPerSec, window)
	}
	return s
}

// Summary is a one-line description of s.
func (s Storm) Summary() string {
	if s.Count == 0 {
		return "none"
	}
	return fmt.Sprintf("%d, first %v, p50 %v, p90 %v, last %v; peak %d in 100 ms, %d in 1 s",
		s.Count, round(s.First), round(s.P50), round(s.P90), round(s.Last), s.Peak100ms, s.PeakPerSec)
}

// procUsage is what sampleProc measured of a process.
type procUsage struct {
	// CPUPeak is the busiest second's CPU time, in % of one core.
	CPUPeak float64
	// CPUTime is the CPU time used while sampled.
	CPUTime time.Duration
	// RSSPeak is the largest VmRSS sampled and VmHWM at the end.
	RSSPeak int64
}

// sampleProc samples pid's CPU time and RSS every stormBucket until ctx
// ends, then returns the figures; run it on its own goroutine.
func sampleProc(ctx context.Context, pid int) procUsage {
	type sample struct {
		at  time.Time
		cpu time.Duration
	}
	var u procUsage
	var ss []sample
	t := time.NewTicker(stormBucket)
	defer t.Stop()
	for done := false; !done; {
		if cpu, err := procCPUTime(pid); err == nil {
			ss = append(ss, sample{time.Now(), cpu})
		}
		if rss, err := readRSS(pid); err == nil {
			u.RSSPeak = max(u.RSSPeak, rss)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			done = true
		}
	}
	if hwm, err := readStatusKB(pid, "VmHWM"); err == nil {
		u.RSSPeak = max(u.RSSPeak, hwm)
	}
	for i, j := 0, 0; j < len(ss); j++ {
		for ss[j].at.Sub(ss[i].at) > time.Second {
			i++
		}
		if dt := ss[j].at.Sub(ss[i].at); dt >= time.Second/2 {
			u.CPUPeak = max(u.CPUPeak, 100*float64(ss[j].cpu-ss[i].cpu)/float64(dt))
		}
	}
	if len(ss) > 1 {
		u.CPUTime = ss[len(ss)-1].cpu - ss[0].cpu
	}
	return u
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every
// Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// procCPUTime returns the user + system CPU time of pid, from
// /proc/<pid>/stat (fields 14 and 15, counted after the command name).
func procCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("mqttbench: cpu time of pid %d: %w", pid, err)
	}
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("mqttbench: cpu time of pid %d: short stat line", pid)
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("mqttbench: cpu time of pid %d: bad stat line", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}
