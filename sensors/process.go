package sensors

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
)

// DefaultProcess is the Process that changes nothing: scale 1, offset 0, no
// rounding, no deadband. The config package starts from it.
func DefaultProcess() Process { return Process{Scale: 1, Round: -1} }

// Apply returns v*Scale + Offset rounded to Round decimals. A zero Scale
// counts as 1 (it would erase the reading); Round outside 0…15 keeps full
// precision. Rounding is decimal: 21.535 with Round 2 is 21.53 or 21.54 as the
// binary value lies, never 21.530000000000001.
func (p Process) Apply(v float64) float64 {
	if p.Scale != 0 {
		v *= p.Scale
	}
	v += p.Offset
	if p.Round >= 0 && p.Round <= maxRound && !math.IsInf(v, 0) && !math.IsNaN(v) {
		v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'f', p.Round, 64), 64)
	}
	if v == 0 {
		v = 0 // no "-0" in the payload
	}
	return v
}

//

const maxRound = 15

// processor turns a sensor's readings into the ones to publish: validation,
// timestamps, Process, repeats and the deadband. The poll loop and the Watch
// goroutine share it.
type processor struct {
	rules map[string]Process

	mu   sync.Mutex
	last map[string]sent // by quantity
}

// sent is what was last published for a quantity.
type sent struct {
	value float64
	at    time.Time // poller clock when published (for MaxInterval)
	ts    time.Time // the reading's time (to skip stale repeats)
}

func newProcessor(rules map[string]Process) *processor {
	return &processor{rules: rules, last: map[string]sent{}}
}

// prepare returns the readings to publish, how many it suppressed (deadband or
// repeat) and the error for readings it rejected.
func (p *processor) prepare(rs []Reading, now time.Time) (out []Reading, suppressed int, errs []error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rs {
		own := !r.Time.IsZero() // the driver timed it (a Watcher's latest value)
		r, err := p.transform(r, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p.suppress(r, own, now) {
			suppressed++
			continue
		}
		p.last[r.Quantity] = sent{value: r.Value, at: now, ts: r.Time}
		out = append(out, r)
	}
	return out, suppressed, errs
}

// transform validates r, stamps it and applies its Process.
func (p *processor) transform(r Reading, now time.Time) (Reading, error) {
	if err := ValidQuantity(r.Quantity); err != nil {
		return r, err
	}
	if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
		return r, fmt.Errorf("%w: %s = %v", ErrInvalidValue, r.Quantity, r.Value)
	}
	if r.Time.IsZero() {
		r.Time = now
	}
	rule, ok := p.rules[r.Quantity]
	if !ok {
		return r, nil
	}
	raw := r.Value
	r.Value = rule.Apply(raw)
	if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
		return r, fmt.Errorf("%w: %s = %v after scale and offset (raw %v)", ErrInvalidValue, r.Quantity, r.Value, raw)
	}
	if rule.Unit != "" {
		r.Unit = rule.Unit
	}
	return r, nil
}

// suppress reports whether r is stale (it carries its own time, not after
// the last published reading of its quantity: a Watcher already sent it or
// something newer) or stays within the deadband while MaxInterval has not
// passed.
func (p *processor) suppress(r Reading, own bool, now time.Time) bool {
	last, ok := p.last[r.Quantity]
	if !ok {
		return false
	}
	if own && !r.Time.After(last.ts) {
		return true
	}
	rule := p.rules[r.Quantity]
	if rule.Deadband <= 0 {
		return false
	}
	if rule.MaxInterval > 0 && now.Sub(last.at) >= rule.MaxInterval {
		return false
	}
	// Tolerate floating-point noise: 0.3-0.2 reaches a deadband of 0.1.
	return math.Abs(r.Value-last.value) < rule.Deadband*(1-1e-9)
}
