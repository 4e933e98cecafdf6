package sensors

import (
	"context"
	"errors"
	"fmt"
)

// ReadNow asks the poll loop for one extra Sense, outside the schedule, and
// returns its readings with the spec's processing applied (scale, offset,
// round, unit; no deadband): what an operator asks for with a remote
// "sensor_read". The readings are not published. It waits until the loop
// is free (a poll in progress finishes first) and returns ctx's error if it
// ends first, or if the poller is not running.
func (p *Poller) ReadNow(ctx context.Context) ([]Reading, error) {
	reply := make(chan readResult, 1)
	select {
	case p.reads <- reply:
	case <-ctx.Done():
		return nil, fmt.Errorf("sensors: %s: read now: %w", p.spec.Name, ctx.Err())
	}
	select {
	case r := <-reply:
		return r.readings, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("sensors: %s: read now: %w", p.spec.Name, ctx.Err())
	}
}

//

// readResult is the answer of the poll loop to a ReadNow.
type readResult struct {
	readings []Reading
	err      error
}

// readNow serves one ReadNow request in the poll loop.
func (p *Poller) readNow(ctx context.Context, reply chan<- readResult) {
	rs, err := p.sense(ctx)
	p.stats.reads.Add(1)
	if err != nil {
		p.stats.errors.Add(1)
	}
	now := p.opts.Now()
	out := make([]Reading, 0, len(rs))
	var errs []error
	for _, r := range rs {
		t, terr := p.proc.transform(r, now)
		if terr != nil {
			errs = append(errs, terr)
			continue
		}
		out = append(out, t)
	}
	reply <- readResult{readings: out, err: errors.Join(append([]error{err}, errs...)...)}
}
