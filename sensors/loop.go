package sensors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"
)

// pollLoop calls Sense on schedule (and for ReadNow) and Set on command
// until ctx is done. It is the only goroutine that calls Sense and Set.
func (p *Poller) pollLoop(ctx context.Context) {
	retry := Backoff{Min: p.spec.Interval, Max: p.opts.MaxBackoff}
	timer := time.NewTimer(0) // the first reading at once
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-p.sets:
			switch {
			case c.name != "":
				p.runCommand(ctx, c.name, c.payload)
			case c.quantity != "":
				p.setQuantity(ctx, c.quantity, c.payload)
			default:
				p.set(ctx, c.payload)
			}
			continue
		case reply := <-p.reads:
			p.readNow(ctx, reply)
			continue
		case <-timer.C:
		}
		start := time.Now()
		ok := p.poll(ctx)
		if ctx.Err() != nil {
			return
		}
		next := p.spec.Interval - time.Since(start)
		if ok {
			retry.Reset()
		} else {
			next = retry.Next()
		}
		timer.Reset(max(next, 0))
	}
}

// poll reads the sensor once, publishes what it got and tracks the sensor's
// state. It reports false when the sensor gave nothing (retry with backoff).
// A Sense that returns readings and an error (one probe of several missing)
// publishes the readings and still counts as failing, without backoff.
func (p *Poller) poll(ctx context.Context) (ok bool) {
	rs, err := p.sense(ctx)
	if ctx.Err() != nil {
		return false // stopping: not the sensor's fault
	}
	p.stats.reads.Add(1)
	if err != nil {
		p.stats.errors.Add(1)
	}
	err = errors.Join(err, p.publishReadings(ctx, rs))
	p.setState(ctx, err)
	return err == nil || len(rs) > 0
}

// sense calls Sense with the per-read timeout.
func (p *Poller) sense(ctx context.Context) ([]Reading, error) {
	sctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	rs, err := p.sensor.Sense(sctx)
	if err != nil && ctx.Err() == nil && sctx.Err() != nil {
		err = fmt.Errorf("sensors: read timed out after %v: %w", p.timeout, err)
	}
	return rs, err
}

// publishReadings processes rs and publishes what passes. It returns the
// errors of the readings it rejected.
func (p *Poller) publishReadings(ctx context.Context, rs []Reading) error {
	if len(rs) == 0 {
		return nil
	}
	out, suppressed, errs := p.proc.prepare(rs, p.opts.Now())
	p.stats.suppressed.Add(uint64(suppressed))
	p.stats.errors.Add(uint64(len(errs)))
	synced := p.opts.ClockSynced()
	for _, r := range out {
		b, err := MarshalReading(r, synced)
		if err != nil { // prepare rejected non-finite values; keep the guard
			errs = append(errs, err)
			continue
		}
		if p.publish(ctx, p.topic+"/"+r.Quantity, b, p.spec.QoS, p.spec.Retain) {
			p.stats.published.Add(1)
			p.last.reading(r)
		}
	}
	return errors.Join(errs...)
}

// publish sends one message, counting and logging (once per change) failures.
func (p *Poller) publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) bool {
	err := p.pub.Publish(ctx, topic, payload, qos, retain)
	if err == nil {
		p.pubEdge.ok(ctx, "topic", topic)
		return true
	}
	if ctx.Err() == nil {
		p.stats.publishErrors.Add(1)
		p.pubEdge.fail(ctx, err, "topic", topic)
	}
	return false
}

// setState records the outcome of a poll: logs and "<topic>/status" happen
// only when the state changes (first outcome, ok → error, error → ok).
func (p *Poller) setState(ctx context.Context, err error) {
	var changed bool
	if err != nil {
		changed = p.readEdge.fail(ctx, err)
	} else {
		changed = p.readEdge.ok(ctx)
	}
	p.stats.failing.Store(err != nil)
	if err != nil {
		p.last.fail(err, p.opts.Now())
	}
	if changed {
		p.publish(ctx, p.topic+"/status", MarshalStatus(err, p.opts.Now()), p.spec.QoS, true)
	}
}

// command queues a "<topic>/set", "<topic>/<quantity>/set" or
// "<topic>/<name>" payload (kind says which) for the poll loop. It runs on
// the subscriber's goroutine and never blocks: a full queue drops the
// command.
func (p *Poller) command(topic string, kind command, payload []byte) {
	kind.payload = bytes.Clone(payload)
	select {
	case p.sets <- kind:
	default:
		p.stats.commandErrors.Add(1)
		p.log.Warn("command dropped: queue full", "topic", topic)
	}
}

// set applies one command and publishes the actuator's new state, retained,
// on "<topic>/state" (the first reading Set returns).
func (p *Poller) set(ctx context.Context, payload []byte) {
	sctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	p.stats.commands.Add(1)
	rs, err := p.actuator.Set(sctx, payload)
	if ctx.Err() != nil {
		return
	}
	if err == nil && len(rs) > 0 {
		err = p.publishState(ctx, rs[0])
	}
	if err != nil {
		p.stats.commandErrors.Add(1)
		p.log.Warn("set failed", "topic", p.topic+"/set", "err", err)
	}
}

func (p *Poller) publishState(ctx context.Context, r Reading) error {
	if r.Time.IsZero() {
		r.Time = p.opts.Now()
	}
	b, err := MarshalReading(r, p.opts.ClockSynced())
	if err != nil {
		return err
	}
	p.publish(ctx, p.topic+"/state", b, p.spec.QoS, true)
	return nil
}
