package sensors

import (
	"context"
	"encoding/json"
	"fmt"
)

// setQuantity applies one "<topic>/<quantity>/set" command: the payload's
// value, in published units, has the spec's Process undone and goes to the
// QuantitySetter, which checks its range, writes it and reads it back; the
// value read back is published on "<topic>/<quantity>" (no deadband), and
// the outcome on "<topic>/<quantity>/set/result". A refused or failed
// command is counted and logged; nothing is written.
func (p *Poller) setQuantity(ctx context.Context, quantity string, payload []byte) {
	p.stats.commands.Add(1)
	r, err := p.writeQuantity(ctx, quantity, payload)
	if ctx.Err() != nil {
		return
	}
	if err == nil {
		err = p.publishReadback(ctx, &r)
	}
	res := SetResult{OK: err == nil, TS: FormatTime(p.opts.Now())}
	if err != nil {
		p.stats.commandErrors.Add(1)
		p.log.Warn("set failed", "topic", p.topic+"/"+quantity+"/set", "err", err)
		res.Error = err.Error()
	} else {
		p.log.Info("set", "topic", p.topic+"/"+quantity+"/set", "value", r.Value)
		res.Value = &r.Value
	}
	b, _ := json.Marshal(res) // finite numbers and strings: cannot fail
	p.publish(ctx, p.topic+"/"+quantity+"/set/result", b, p.spec.QoS, false)
}

//

// writeQuantity parses payload, undoes the spec's Process and calls
// SetQuantity with the per-read timeout.
func (p *Poller) writeQuantity(ctx context.Context, quantity string, payload []byte) (Reading, error) {
	v, err := ParseSetValue(payload)
	if err != nil {
		return Reading{}, err
	}
	if rule, ok := p.spec.Process[quantity]; ok {
		v = rule.Reverse(v)
	}
	sctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	r, err := p.setter.SetQuantity(sctx, quantity, v)
	if err != nil && ctx.Err() == nil && sctx.Err() != nil {
		err = fmt.Errorf("sensors: set timed out after %v: %w", p.timeout, err)
	}
	return r, err
}

// publishReadback processes the reading a SetQuantity read back (no
// deadband: the writer wants to see it) and publishes it; r becomes the
// published reading.
func (p *Poller) publishReadback(ctx context.Context, r *Reading) error {
	t, err := p.proc.transform(*r, p.opts.Now())
	if err != nil {
		return err
	}
	*r = t
	b, err := MarshalReading(t, p.opts.ClockSynced())
	if err != nil {
		return err
	}
	if !p.publish(ctx, p.topic+"/"+t.Quantity, b, p.spec.QoS, p.spec.Retain) {
		return fmt.Errorf("sensors: publish the value read back of %s failed", t.Quantity)
	}
	p.stats.published.Add(1)
	p.last.reading(t)
	return nil
}
