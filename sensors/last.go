package sensors

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// Last is what a poller saw most recently, for a status page: the last
// reading of each quantity it published and its last error.
type Last struct {
	// Readings holds the last published reading of each quantity (after
	// processing, as in the payload), sorted by quantity.
	Readings []Reading
	// Error is the last failed poll's error ("" before any), and ErrorTime
	// when it happened; it stays after the sensor recovers (Stats.Failing
	// says whether it still fails).
	Error     string
	ErrorTime time.Time
}

// Last returns a copy of the last readings and error.
func (p *Poller) Last() Last { return p.last.snapshot() }

//

// lastSeen is the state behind Last, written by the poll loop.
type lastSeen struct {
	mu      sync.Mutex
	byQ     map[string]Reading
	err     string
	errTime time.Time
}

func (l *lastSeen) reading(r Reading) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byQ == nil {
		l.byQ = make(map[string]Reading)
	}
	l.byQ[r.Quantity] = r
}

func (l *lastSeen) fail(err error, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.err, l.errTime = err.Error(), now
}

func (l *lastSeen) snapshot() Last {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := Last{Readings: make([]Reading, 0, len(l.byQ)), Error: l.err, ErrorTime: l.errTime}
	for _, r := range l.byQ {
		out.Readings = append(out.Readings, r)
	}
	slices.SortFunc(out.Readings, func(a, b Reading) int { return strings.Compare(a.Quantity, b.Quantity) })
	return out
}
