package bridge

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// logEvery is the most often one kind of per-message problem is logged: a
// hostile or broken upstream (or a full disk) must not turn every message
// into a log line.
const logEvery = 10 * time.Second

// Kinds of rate-limited log lines.
const (
	logNoRule        = "no_rule"
	logLocalPublish  = "local_publish"
	logSubRefused    = "subscription_refused"
	logMappedInvalid = "mapped_topic_invalid"
	logAppend        = "append_failed"
	logProtocol      = "protocol"
	logRejected      = "rejected"
	logTooLarge      = "too_large"
	logProps         = "props"
)

// logLimiter lets one line of each kind through per logEvery; the next
// line let through carries how many were suppressed meanwhile.
type logLimiter struct {
	mu    sync.Mutex
	kinds map[string]*logKind
}

type logKind struct {
	next       time.Time
	suppressed uint64
}

// allow reports whether a line of kind may be logged now, and how many
// were suppressed since the last one.
func (l *logLimiter) allow(kind string, now time.Time) (bool, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.kinds == nil {
		l.kinds = make(map[string]*logKind)
	}
	k := l.kinds[kind]
	if k == nil {
		k = &logKind{}
		l.kinds[kind] = k
	}
	if now.Before(k.next) {
		k.suppressed++
		return false, 0
	}
	n := k.suppressed
	k.next, k.suppressed = now.Add(logEvery), 0
	return true, n
}

// logLimited logs msg at level unless a line of its kind went out less
// than logEvery ago.
func (b *Bridge) logLimited(level slog.Level, kind, msg string, args ...any) {
	ok, suppressed := b.logLim.allow(kind, time.Now())
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	b.log.Log(context.Background(), level, msg, args...)
}
