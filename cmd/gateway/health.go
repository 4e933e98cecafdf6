package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/edgegw/edgegw/internal/statuspage"
	"github.com/edgegw/edgegw/mqttcore/packet"
)

// healthTopic is where the health check sends itself a message through the
// broker's routing, proving the broker loop works.
const healthTopic = "$SYS/gateway/health/probe"

// health runs until ctx is done: every interval it checks the broker loop and
// the store, sends WATCHDOG=1 only when both answer, and refreshes STATUS=.
// Without a systemd watchdog it still runs (every 15s) and logs failures.
func (g *gateway) health(ctx context.Context) error {
	interval := watchdogInterval()
	if interval == 0 {
		interval = 15 * time.Second
	}
	probe := make(chan struct{}, 1)
	unsubscribe, err := g.broker.Subscribe("$health", healthTopic, 0, func(*packet.Publish) {
		select {
		case probe <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return fmt.Errorf("health probe subscribe: %w", err)
	}
	defer unsubscribe()
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		err := g.check(ctx, probe, interval/2)
		if ctx.Err() == nil {
			g.verdict.Store(&healthVerdict{err: err, at: time.Now(), interval: interval})
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			if failing {
				g.log.Info("health check passes again")
			}
			failing = false
			g.notify.notify("WATCHDOG=1", "STATUS="+g.status())
		case !failing:
			failing = true
			g.log.Error("health check failed; not feeding the watchdog", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// healthVerdict is the outcome of one health check.
type healthVerdict struct {
	err      error     // nil: passed
	at       time.Time // when it ended (monotonic)
	interval time.Duration
}

// healthStatus is the latest health check's verdict for /healthz: failing
// before the first check and when the last one is older than two intervals
// (the check loop is stuck: the watchdog is not fed either).
func (g *gateway) healthStatus() statuspage.Health {
	v := g.verdict.Load()
	if v == nil {
		return statuspage.Health{Reason: "no health check yet"}
	}
	h := statuspage.Health{OK: v.err == nil, CheckedAt: v.at}
	switch age := time.Since(v.at); {
	case v.err != nil:
		h.Reason = v.err.Error()
	case age > 2*v.interval:
		h.OK, h.Reason = false, fmt.Sprintf("health check stale: last ran %v ago", age.Round(time.Second))
	}
	return h
}

// check publishes a probe through the broker and reads the store.
func (g *gateway) check(ctx context.Context, probe <-chan struct{}, timeout time.Duration) error {
	select { // drain a stale probe
	case <-probe:
	default:
	}
	if err := g.broker.Publish(ctx, "$health", &packet.Publish{Topic: healthTopic, Payload: []byte("1")}); err != nil {
		return fmt.Errorf("probe: %w", err) // "broker: publish …"
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-probe:
	case <-t.C:
		return errors.New("broker: probe not routed")
	case <-ctx.Done():
		return ctx.Err()
	}
	if _, _, err := g.db.KV("health").Get("probe"); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// status is the one-line STATUS= for systemctl status.
func (g *gateway) status() string {
	st := g.broker.Stats()
	s := fmt.Sprintf("%d local clients", st.ClientsConnected)
	if g.bridge != nil {
		q := g.queue.Stats()
		up := "uplink down"
		if g.bridge.Stats().Connected {
			up = "uplink up"
		}
		s = fmt.Sprintf("%s, %d queued, %s", up, q.Messages, s)
	}
	return s
}

// metrics adds the gateway's own figures to the bridge's metrics topic.
func (g *gateway) metrics() map[string]any {
	st := g.broker.Stats()
	db := g.db.Stats()
	cfg := g.config()
	m := map[string]any{
		"gateway_id":    cfg.Gateway.ID,
		"local_clients": st.ClientsConnected,
		"broker": map[string]any{
			"publish_received": st.PublishReceived,
			"publish_sent":     st.PublishSent,
			"retained":         st.Retained,
			"sessions":         st.Sessions,
		},
		"store": map[string]any{
			"file_size":         db.FileSize,
			"commits":           db.Commits,
			"fsyncs":            db.Fsyncs,
			"bytes_written":     db.BytesWritten,
			"commit_errors":     db.CommitErrors,
			"last_error":        db.LastError,
			"corrupt_recovered": db.CorruptRecovered,
			"corrupt_path":      db.CorruptPath,
		},
	}
	if rss, err := readRSS(); err == nil {
		m["rss_bytes"] = rss
	}
	if free, err := diskFree(cfg.Gateway.DataDir); err == nil {
		m["disk_free_bytes"] = free
	}
	g.mu.Lock()
	set := g.sensors
	g.mu.Unlock()
	if set != nil {
		s, unavailable := set.stats()
		m["sensors"] = map[string]any{
			"configured": len(cfg.Sensors), "unavailable": unavailable,
			"reads": s.Reads, "errors": s.Errors, "published": s.Published,
			"commands": s.Commands, "command_errors": s.CommandErrors,
		}
		m["sensor_errors"] = s.Errors
		m["sensor_command_errors"] = s.CommandErrors
	}
	return m
}

// sysExtra is the gateway's own $SYS/gateway/... figures.
func (g *gateway) sysExtra() map[string]string {
	m := map[string]string{"id": g.config().Gateway.ID}
	if g.bridge == nil {
		m["uplink/state"] = "none"
		return m
	}
	// uplink/state is published at every change, by uplinkState.
	q := g.queue.Stats()
	b := g.bridge.Stats()
	m["uplink/outage_seconds"] = strconv.FormatInt(int64(b.Outage.Age/time.Second), 10)
	m["uplink/last_outage_seconds"] = strconv.FormatInt(int64(b.Outage.LastLength/time.Second), 10)
	m["uplink/last_drain_seconds"] = strconv.FormatInt(int64(b.Outage.LastDrainTime/time.Second), 10)
	m["queue/peak_backlog"] = strconv.FormatUint(b.Outage.PeakBacklog, 10)
	m["uplink/reconnects"] = strconv.FormatUint(b.Reconnects, 10)
	m["uplink/forwarded"] = strconv.FormatUint(b.Forwarded, 10)
	m["queue/messages"] = strconv.FormatUint(q.Messages, 10)
	m["queue/bytes"] = strconv.FormatUint(q.Bytes, 10)
	m["queue/oldest_age_seconds"] = strconv.FormatInt(int64(q.OldestAge/time.Second), 10)
	var dropped uint64
	for _, n := range b.Dropped {
		dropped += n
	}
	m["queue/dropped"] = strconv.FormatUint(dropped, 10)
	return m
}

// readRSS returns this process's resident set size from /proc/self/status.
func readRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("VmRSS not found")
}

// diskFree returns the bytes available to the gateway on dir's filesystem.
func diskFree(dir string) (uint64, error) {
	var s syscall.Statfs_t
	if err := syscall.Statfs(dir, &s); err != nil {
		return 0, err
	}
	return s.Bavail * uint64(s.Bsize), nil
}
