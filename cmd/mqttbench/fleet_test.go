package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestRunFleet_smallOutage runs the fleet scenario small: five gateways,
// a 2 s and a 300 ms outage of the upstream, fast reconnects. Every
// gateway must come back, and every reading its sensor published must
// arrive upstream.
func TestRunFleet_smallOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five gateway processes and restarts Mosquitto twice")
	}
	mosq := mosquittoBin(t)
	c := FleetConfig{Gateway: buildGateway(t), Mosquitto: mosq, Gateways: 5,
		Outages: []time.Duration{2 * time.Second, 300 * time.Millisecond}, Steady: 2 * time.Second,
		SensorInterval: 200 * time.Millisecond, MinDelay: 100 * time.Millisecond, MaxDelay: time.Second,
		StartTimeout: time.Minute, RecoverTimeout: time.Minute, Parallel: 5}
	r, err := runFleet(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.WriteReport(&out); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	if len(r.Outages) != 2 {
		t.Fatalf("%d outages reported, want 2", len(r.Outages))
	}
	for _, o := range r.Outages {
		if !o.Recovered || o.Connects.Count < c.Gateways || o.Backlog == 0 || o.Online <= 0 {
			t.Errorf("outage %v: recovered %v, %d connects, backlog %d, online after %v; want every gateway back with a backlog",
				o.Outage, o.Recovered, o.Connects.Count, o.Backlog, o.Online)
		}
	}
	if r.Readings < int64(c.Gateways)*10 || r.Lost != 0 {
		t.Errorf("%d readings published, %d lost: want ≥ %d published, none lost", r.Readings, r.Lost, c.Gateways*10)
	}
	if !strings.Contains(out.String(), "min_delay: 100ms") {
		t.Errorf("the report does not name the reconnect settings:\n%s", out.String())
	}
}

func TestNewStorm(t *testing.T) {
	s := newStorm(ms(1500, 10, 20, 30, 950, 1050, 1100))
	if s.Count != 7 || s.First != 10*time.Millisecond || s.Last != 1500*time.Millisecond || s.P50 != 950*time.Millisecond {
		t.Errorf("storm %+v: want 7 connections from 10 ms to 1.5 s, median 950 ms", s)
	}
	// 100 ms buckets: [0] 3, [9] 1, [10] 1, [11] 1, [15] 1.
	if s.Peak100ms != 3 || s.PeakPerSec != 4 {
		t.Errorf("peaks %d per 100 ms, %d per second; want 3 and 4", s.Peak100ms, s.PeakPerSec)
	}
	if got := s.PerSecond; len(got) != 2 || got[0] != 4 || got[1] != 3 {
		t.Errorf("per second %v, want [4 3]", got)
	}
	if e := newStorm(nil); e.Count != 0 || e.Summary() != "none" {
		t.Errorf("empty storm %+v", e)
	}
}
