package sensors

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
)

// runCommand applies one of a Commander's commands and publishes its
// outcome (SetResult) on "<topic>/<name>/result", not retained. A failed
// command is counted and logged.
func (p *Poller) runCommand(ctx context.Context, name string, payload []byte) {
	p.stats.commands.Add(1)
	timeout := max(p.timeout, CommandTimeout)
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := p.cmder.Command(cctx, name, payload)
	if ctx.Err() != nil {
		return
	}
	switch {
	case err != nil && cctx.Err() != nil:
		err = fmt.Errorf("sensors: %s timed out after %v: %w", name, timeout, err)
	case err == nil && (math.IsNaN(r.Value) || math.IsInf(r.Value, 0)):
		err = fmt.Errorf("sensors: %s: %w: %v", name, ErrInvalidValue, r.Value)
	}
	topic := p.topic + "/" + name
	res := SetResult{OK: err == nil, TS: FormatTime(p.opts.Now())}
	if err != nil {
		p.stats.commandErrors.Add(1)
		p.log.Warn("command failed", "topic", topic, "err", err)
		res.Error = err.Error()
	} else {
		p.log.Info("command", "topic", topic, "value", r.Value, "unit", r.Unit)
		res.Value, res.Unit = &r.Value, r.Unit
	}
	b, _ := json.Marshal(res) // a finite number and strings: cannot fail
	p.publish(ctx, topic+"/result", b, p.spec.QoS, false)
}
