package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestGateway_healthStatus: /healthz's verdict is failing before the first
// check, after a failed one (with its error), and when the last passing
// check is older than two intervals (the check loop is stuck).
func TestGateway_healthStatus(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		name   string
		v      *healthVerdict
		ok     bool
		reason string
	}{
		{"no check yet", nil, false, "no health check yet"},
		{"passed", &healthVerdict{at: now, interval: 15 * time.Second}, true, ""},
		{"failed", &healthVerdict{err: errors.New("broker: probe not routed"), at: now, interval: 15 * time.Second}, false, "broker: probe not routed"},
		{"stale", &healthVerdict{at: now.Add(-31 * time.Second), interval: 15 * time.Second}, false, "health check stale: last ran 31s ago"},
		{"late but not stale", &healthVerdict{at: now.Add(-29 * time.Second), interval: 15 * time.Second}, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := &gateway{}
			if c.v != nil {
				g.verdict.Store(c.v)
			}
			h := g.healthStatus()
			if h.OK != c.ok || !strings.HasPrefix(h.Reason, c.reason) || (c.reason == "") != (h.Reason == "") {
				t.Errorf("healthStatus = %+v, want ok %v, reason %q", h, c.ok, c.reason)
			}
		})
	}
}
