package sensorstest

import (
	"context"
	"log/slog"
	"sync"
)

// LogRecord is one recorded log call, its attributes flattened to
// "group.key" → value.
type LogRecord struct {
	Level   slog.Level
	Message string
	Attrs   map[string]any
}

// Logs records every log call (all levels) made through its Logger.
type Logs struct {
	mu   sync.Mutex
	recs []LogRecord
}

// Logger returns a logger that records into l.
func (l *Logs) Logger() *slog.Logger { return slog.New(&logHandler{logs: l}) }

// Records returns what was logged, oldest first.
func (l *Logs) Records() []LogRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LogRecord(nil), l.recs...)
}

// Count returns how many records have level and message msg.
func (l *Logs) Count(level slog.Level, msg string) int {
	n := 0
	for _, r := range l.Records() {
		if r.Level == level && r.Message == msg {
			n++
		}
	}
	return n
}

//

type logHandler struct {
	logs   *Logs
	attrs  []slog.Attr
	prefix string // open groups, "a.b."
}

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	rec := LogRecord{Level: r.Level, Message: r.Message, Attrs: map[string]any{}}
	for _, a := range h.attrs {
		addAttr(rec.Attrs, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		addAttr(rec.Attrs, h.prefix, a)
		return true
	})
	h.logs.mu.Lock()
	defer h.logs.mu.Unlock()
	h.logs.recs = append(h.logs.recs, rec)
	return nil
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		a.Key = h.prefix + a.Key
		n.attrs = append(n.attrs, a)
	}
	return &n
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}

func addAttr(m map[string]any, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, g := range v.Group() {
			addAttr(m, prefix+a.Key+".", g)
		}
		return
	}
	m[prefix+a.Key] = v.Any()
}
