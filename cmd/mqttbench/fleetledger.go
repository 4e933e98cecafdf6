package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// fleetTopicRoot is where every fleet gateway's bridge puts its topics on
// the upstream: gateways/<id>/sensors/... (its remote_prefix) and
// gateways/<id>/status (the monitor prefix's default).
const fleetTopicRoot = "gateways/"

// ledger matches the readings the fleet's sensors published, as a local
// subscriber on each gateway saw them, with what arrived at the upstream,
// and records when each gateway announced itself online upstream. A
// reading is identified by its gateway, local topic and payload (the
// payload carries the reading's timestamp in milliseconds). Safe for
// concurrent use.
type ledger struct {
	mu       sync.Mutex
	readings map[readingKey]*reading
	online   map[string][]time.Time // gateway id → arrivals of its "online" status
}

type readingKey struct{ gw, topic, payload string }

// reading is one sensor reading: when the local subscriber got it (zero:
// not seen locally, e.g. published before the subscriber subscribed), when
// it first arrived upstream, and how often it arrived there.
type reading struct {
	local, up time.Time
	ups       int
}

func newLedger() *ledger {
	return &ledger{readings: map[readingKey]*reading{}, online: map[string][]time.Time{}}
}

// Local records a reading a gateway's local subscriber received.
func (l *ledger) Local(gw, topic string, payload []byte) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.get(readingKey{gw, topic, string(payload)})
	if r.local.IsZero() {
		r.local = now
	}
}

// Upstream records a message the upstream subscriber received: a reading
// under gateways/<id>/, or a gateway's status.
func (l *ledger) Upstream(p *packet.Publish) {
	now := time.Now()
	gw, rest, ok := strings.Cut(strings.TrimPrefix(p.Topic, fleetTopicRoot), "/")
	if !ok || !strings.HasPrefix(p.Topic, fleetTopicRoot) {
		return
	}
	if rest == "status" {
		var st struct{ State string }
		if !p.Retain && json.Unmarshal(p.Payload, &st) == nil && st.State == "online" {
			l.mu.Lock()
			l.online[gw] = append(l.online[gw], now)
			l.mu.Unlock()
		}
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.get(readingKey{gw, rest, string(p.Payload)})
	if r.ups == 0 {
		r.up = now
	}
	r.ups++
}

// Recovery says how far the fleet has come back after the upstream
// returned at since: every gateway in ids online (its first "online" status
// after since) and every reading it published before that drained
// upstream. done is false while either is missing.
func (l *ledger) Recovery(ids []string, since time.Time, down time.Time) (r recovery, done bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	back := make(map[string]time.Time, len(ids))
	done = true
	for _, id := range ids {
		t := firstAfter(l.online[id], since)
		if t.IsZero() {
			done = false
			continue
		}
		back[id] = t
		r.Online = max(r.Online, t.Sub(since))
	}
	for k, rd := range l.readings {
		on, ok := back[k.gw]
		if rd.local.IsZero() || (ok && !rd.local.Before(on)) {
			continue
		}
		if !rd.local.Before(down) {
			r.Backlog++
		}
		switch {
		case rd.ups == 0:
			done = false
		case rd.up.After(since):
			r.Drained = max(r.Drained, rd.up.Sub(since))
		}
	}
	return r, done
}

// recovery is the ledger's view of a recovery; durations count from the
// upstream's return.
type recovery struct {
	Online, Drained time.Duration
	// Backlog counts the readings published from the outage's start until
	// their gateway was back online.
	Backlog int64
}

// Tally counts the readings seen locally before cut: published, never
// arrived upstream (lost), and extra arrivals (duplicates).
func (l *ledger) Tally(cut time.Time) (published, lost, duplicates int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.readings {
		if r.local.IsZero() || !r.local.Before(cut) {
			continue
		}
		published++
		if r.ups == 0 {
			lost++
		} else {
			duplicates += int64(r.ups - 1)
		}
	}
	return published, lost, duplicates
}

//

// get returns the reading for k, creating it; l.mu is held.
func (l *ledger) get(k readingKey) *reading {
	r := l.readings[k]
	if r == nil {
		r = &reading{}
		l.readings[k] = r
	}
	return r
}

// firstAfter returns the first time in ts after t, or the zero time.
func firstAfter(ts []time.Time, t time.Time) time.Time {
	for _, x := range ts {
		if x.After(t) {
			return x
		}
	}
	return time.Time{}
}

// subscribeLedger connects to addr as id, subscribes to filters at QoS 1
// and passes every message to record, acknowledging it, until ctx ends or
// the connection is lost (the upstream's restart). It returns a function
// that stops the subscriber and waits for it.
func subscribeLedger(ctx context.Context, addr, id string, filters []string, record func(*packet.Publish)) (stop func(), err error) {
	cn, err := dial(ctx, addr, id, 0)
	if err != nil {
		return nil, err
	}
	for _, f := range filters {
		if err := cn.subscribe(ctx, f, 1); err != nil {
			cn.close()
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = cn.run(ctx, func(p packet.Packet) error { // a lost connection ends it: expected
			m, ok := p.(*packet.Publish)
			if !ok {
				return nil
			}
			record(m)
			if m.QoS == 0 {
				return nil
			}
			if m.QoS != 1 {
				return fmt.Errorf("mqttbench: fleet: %q delivered at qos %d", m.Topic, m.QoS)
			}
			return cn.write(&packet.Puback{PacketID: m.PacketID})
		})
	}()
	return func() {
		cancel()
		<-done
	}, nil
}
