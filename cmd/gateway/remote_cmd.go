package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/edgegw/edgegw/config"
	"github.com/edgegw/edgegw/internal/remote"
	"github.com/edgegw/edgegw/offline"
)

// queueDocument is the answer of the queue command.
func queueDocument(q offline.QueueStats) map[string]any {
	dropped := q.Dropped
	if dropped == nil {
		dropped = map[string]uint64{}
	}
	return map[string]any{
		"messages":           q.Messages,
		"bytes":              q.Bytes,
		"oldest_age_seconds": seconds(q.OldestAge),
		"quarantined":        q.Quarantined,
		"dropped":            dropped,
	}
}

// logLevel is the log_level command: {"level": "debug", "for": "10m"} sets
// the level until "for" has passed (default 10m, at most 24h), then the
// configured level is back.
func (r *remoteServer) logLevel(payload []byte) (any, error) {
	var req struct {
		remote.Request
		Level string          `json:"level"`
		For   config.Duration `json:"for"`
	}
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, fmt.Errorf("bad request: %w", err)
	}
	var level = parseLevel(req.Level)
	if level.String() != normalLevel(req.Level) {
		return nil, fmt.Errorf("level %q: want debug, info, warn or error", req.Level)
	}
	d := time.Duration(req.For)
	switch {
	case d == 0:
		d = defLogLevelFor
	case d < 0 || d > maxLogLevelFor:
		return nil, fmt.Errorf("for %v: want up to %v", d, maxLogLevelFor)
	}
	r.g.level.Set(level)
	r.mu.Lock()
	if r.levelTill != nil {
		r.levelTill.Stop()
	}
	r.levelTill = time.AfterFunc(d, func() {
		r.g.level.Set(parseLevel(r.g.config().Log.Level))
		r.g.log.Info("remote: temporary log level expired", "level", r.g.config().Log.Level)
	})
	r.mu.Unlock()
	until := time.Now().Add(d)
	r.g.log.Info("remote: temporary log level", "level", level, "until", until)
	return map[string]any{"level": level.String(), "until": remote.Stamp(until), "configured": r.g.config().Log.Level}, nil
}

// normalLevel spells a level name as slog.Level.String does.
func normalLevel(s string) string {
	switch s {
	case "debug", "DEBUG":
		return "DEBUG"
	case "info", "INFO":
		return "INFO"
	case "warn", "WARN":
		return "WARN"
	case "error", "ERROR":
		return "ERROR"
	}
	return "?"
}

// sensorRead is the sensor_read command: {"sensor": "name"} reads the
// sensor now and returns its readings (processed, not published).
func (r *remoteServer) sensorRead(ctx context.Context, payload []byte) (any, error) {
	var req struct {
		remote.Request
		Sensor string `json:"sensor"`
	}
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, fmt.Errorf("bad request: %w", err)
	}
	r.g.mu.Lock()
	set := r.g.sensors
	r.g.mu.Unlock()
	if set == nil {
		return nil, fmt.Errorf("sensor %q: sensors are not running", req.Sensor)
	}
	p, _, openErr := set.sensor(req.Sensor)
	if p == nil {
		if openErr != nil {
			return nil, fmt.Errorf("sensor %q: device not open: %w", req.Sensor, openErr)
		}
		return nil, fmt.Errorf("sensor %q: no such sensor running", req.Sensor)
	}
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	rs, err := p.ReadNow(ctx)
	if err != nil && len(rs) == 0 {
		return nil, err
	}
	out := make([]map[string]any, len(rs))
	for i, rd := range rs {
		out[i] = map[string]any{"quantity": rd.Quantity, "value": rd.Value, "unit": rd.Unit, "ts": remote.Stamp(rd.Time)}
	}
	doc := map[string]any{"sensor": req.Sensor, "readings": out}
	if err != nil {
		doc["error"] = err.Error()
	}
	return doc, nil
}
