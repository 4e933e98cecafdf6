package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"golang.org/x/sync/errgroup"
)

// FlowConfig describes a publish/subscribe scenario: fan-in (many publishers,
// one subscriber), fan-out (one publisher, many subscribers) and latency (one
// of each, paced) are all flows.
type FlowConfig struct {
	// Addr is the broker's "host:port".
	Addr string
	// Version is the protocol every client speaks: packet.V311 (also the
	// zero value) or packet.V5.
	Version packet.Version
	// Publishers and Subscribers count the clients; at least 1 each.
	Publishers, Subscribers int
	// QoS is used for publishing and for the subscriptions.
	QoS byte
	// PayloadSize is the payload length in bytes, at least headerSize (24).
	PayloadSize int
	// Window is each publisher's inflight limit at QoS 1 and 2, 1 to 65535.
	Window int
	// Duration is how long the publishers send.
	Duration time.Duration
	// Rate is the total publish rate in msg/s, split evenly over the
	// publishers; 0 sends as fast as the window and TCP allow.
	Rate float64
	// DrainTimeout bounds the wait, after the publishers stopped, for the
	// last acknowledgements and deliveries.
	DrainTimeout time.Duration
	// Quiet ends the wait for deliveries early when none arrived for this
	// long (QoS 0 may drop messages, so their count is not awaited).
	Quiet time.Duration
	// RecordLatency keeps every publish → deliver latency.
	RecordLatency bool
	// Backlog bounds how many messages may be published but not yet
	// delivered to a subscriber (a message counts as delivered, or lost,
	// once a later message of the same publisher arrived); 0 = no bound.
	// A broker acknowledges a PUBLISH when it has accepted it, not when it
	// has delivered it, so without this bound publishers that are faster
	// than the subscriber fill the broker's per-subscriber queue until it
	// drops, and spend the CPU the broker needs. Keep it well below the
	// broker's max_queued_messages so that any loss is a real loss.
	Backlog int
}

// FlowResult is what a flow measured.
type FlowResult struct {
	Publishers  int  `json:"publishers"`
	Subscribers int  `json:"subscribers"`
	QoS         byte `json:"qos"`
	// Protocol is the clients' protocol level: 4 (MQTT 3.1.1) or 5.
	Protocol byte `json:"protocol"`
	// Sent counts the messages published; at QoS 1 and 2 every one of them
	// was acknowledged.
	Sent int64 `json:"sent"`
	// Expected is Sent × Subscribers.
	Expected int64 `json:"expected"`
	// Received counts unique deliveries, summed over the subscribers.
	Received int64 `json:"received"`
	// Lost is Expected − Received (as (publisher, seq) pairs never seen).
	Lost int64 `json:"lost"`
	// Duplicates counts deliveries of a pair already received.
	Duplicates int64 `json:"duplicates"`
	// Reordered counts deliveries below a sequence number already received
	// from the same publisher.
	Reordered int64 `json:"reordered"`
	// Stray counts deliveries without this run's header.
	Stray int64 `json:"stray"`
	// Elapsed runs from the start of publishing to the last delivery.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Rate is Received / Elapsed in msg/s: the delivered rate, summed over
	// the subscribers.
	Rate float64 `json:"rate"`
	// Latency summarises publish → deliver latencies, when recorded.
	Latency *Latency `json:"latency,omitempty"`
}

// Check validates c.
func (c FlowConfig) Check() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("no broker address"))
	}
	if c.Publishers < 1 || c.Subscribers < 1 || c.Publishers > 10000 || c.Subscribers > 10000 {
		errs = append(errs, fmt.Errorf("publishers (%d) and subscribers (%d) must be 1 to 10000", c.Publishers, c.Subscribers))
	}
	if c.QoS > 2 {
		errs = append(errs, fmt.Errorf("qos %d: want 0, 1 or 2", c.QoS))
	}
	if c.Version != 0 && c.Version != packet.V311 && c.Version != packet.V5 {
		errs = append(errs, fmt.Errorf("protocol version %d: want 4 (3.1.1) or 5", c.Version))
	}
	if c.PayloadSize < headerSize || c.PayloadSize > 64<<10 {
		errs = append(errs, fmt.Errorf("payload size %d: want %d to 65536 bytes", c.PayloadSize, headerSize))
	}
	if c.Window < 1 || c.Window > 65535 {
		errs = append(errs, fmt.Errorf("window %d: want 1 to 65535", c.Window))
	}
	if c.Duration <= 0 || c.Duration > time.Hour {
		errs = append(errs, fmt.Errorf("duration %v: want more than 0 and at most 1h", c.Duration))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate %v: want 0 (unlimited) or more", c.Rate))
	}
	if c.Backlog < 0 || c.Backlog > 1<<20 {
		errs = append(errs, fmt.Errorf("backlog %d: want 0 (unbounded) to %d", c.Backlog, 1<<20))
	}
	if c.DrainTimeout <= 0 || c.Quiet <= 0 {
		errs = append(errs, fmt.Errorf("drain timeout %v and quiet period %v must be positive", c.DrainTimeout, c.Quiet))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mqttbench: %w", err)
	}
	return nil
}

// runFlow connects the subscribers and publishers, publishes for
// c.Duration, waits for the acknowledgements and deliveries, disconnects and
// counts.
func runFlow(ctx context.Context, c FlowConfig) (FlowResult, error) {
	if err := c.Check(); err != nil {
		return FlowResult{}, err
	}
	run := rand.Uint32()
	subs, pubs, err := connectFlow(ctx, c, run)
	if err != nil {
		return FlowResult{}, err
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	conns, connCtx := errgroup.WithContext(runCtx)
	for _, s := range subs {
		conns.Go(func() error { return s.c.run(connCtx, s.handle) })
	}
	for _, p := range pubs {
		conns.Go(func() error { return p.c.run(connCtx, p.handle) })
	}

	start := time.Now()
	sendErr := sendAll(connCtx, c, pubs, start)
	var waitErr error
	if sendErr == nil {
		waitErr = awaitDeliveries(connCtx, c, subs, sent(pubs))
	}
	stop() // disconnect everyone
	connErr := conns.Wait()
	if connErr != nil {
		return FlowResult{}, connErr // the cause; the others only saw the cancellation
	}
	if err := errors.Join(sendErr, waitErr); err != nil {
		return FlowResult{}, err
	}
	return flowResult(c, start, pubs, subs), nil
}

//

// connectFlow connects and subscribes the subscribers, then connects the
// publishers. On error it closes what it opened.
func connectFlow(ctx context.Context, c FlowConfig, run uint32) ([]*subscriber, []*publisher, error) {
	var subs []*subscriber
	var pubs []*publisher
	fail := func(err error) ([]*subscriber, []*publisher, error) {
		for _, s := range subs {
			s.c.close()
		}
		for _, p := range pubs {
			p.c.close()
		}
		return nil, nil, err
	}
	for i := range c.Subscribers {
		cn, err := dialVersion(ctx, c.Addr, clientID("sub", run, i), 0, c.Version)
		if err != nil {
			return fail(err)
		}
		subs = append(subs, newSubscriber(cn, run, c.QoS, c.Publishers, c.RecordLatency))
		if err := cn.subscribe(ctx, "bench/#", c.QoS); err != nil {
			return fail(err)
		}
	}
	for i := range c.Publishers {
		cn, err := dialVersion(ctx, c.Addr, clientID("pub", run, i), 0, c.Version)
		if err != nil {
			return fail(err)
		}
		pubs = append(pubs, newPublisher(cn, run, uint32(i), c.QoS, c.Window, c.PayloadSize))
	}
	if c.Backlog > 0 {
		credits := make([]chan struct{}, len(subs))
		for i, s := range subs {
			s.credits = make(chan struct{}, c.Backlog)
			s.freed = make([]uint64, c.Publishers)
			credits[i] = s.credits
		}
		for _, p := range pubs {
			p.credits = credits
		}
	}
	return subs, pubs, nil
}

// sendAll runs every publisher until the deadline, then waits (up to
// c.DrainTimeout) for their outstanding acknowledgements.
func sendAll(ctx context.Context, c FlowConfig, pubs []*publisher, start time.Time) error {
	deadline := start.Add(c.Duration)
	rate := c.Rate / float64(len(pubs))
	g, gctx := errgroup.WithContext(ctx)
	for _, p := range pubs {
		g.Go(func() error {
			if err := p.sendUntil(gctx, start, deadline, rate); err != nil {
				return err
			}
			if p.qos == 0 {
				return nil
			}
			dctx, cancel := context.WithTimeout(gctx, c.DrainTimeout)
			defer cancel()
			return p.drain(dctx)
		})
	}
	return g.Wait()
}

// awaitDeliveries waits until every subscriber has received every message
// sent, or no new message arrived for c.Quiet, or c.DrainTimeout passed. A
// shortfall is not an error here: it is counted as loss.
func awaitDeliveries(ctx context.Context, c FlowConfig, subs []*subscriber, sent []uint64) error {
	var want int64
	for _, n := range sent {
		want += int64(n)
	}
	deadline := time.Now().Add(c.DrainTimeout)
	progress, lastChange := int64(-1), time.Now()
	for {
		var got int64
		complete := true
		for _, s := range subs {
			n := s.unique.Load()
			got += n
			complete = complete && n >= want
		}
		t := time.Now()
		if got != progress {
			progress, lastChange = got, t
		}
		if complete || t.After(deadline) || t.Sub(lastChange) > c.Quiet {
			return nil
		}
		if err := sleep(ctx, 2*time.Millisecond); err != nil {
			return fmt.Errorf("mqttbench: waiting for deliveries: %w", err)
		}
	}
}

// sent lists how many messages each publisher sent.
func sent(pubs []*publisher) []uint64 {
	n := make([]uint64, len(pubs))
	for i, p := range pubs {
		n[i] = p.sent
	}
	return n
}

// flowResult adds up the counters once every goroutine has stopped.
func flowResult(c FlowConfig, start time.Time, pubs []*publisher, subs []*subscriber) FlowResult {
	r := FlowResult{Publishers: c.Publishers, Subscribers: c.Subscribers, QoS: c.QoS, Protocol: byte(c.Version)}
	if r.Protocol == 0 {
		r.Protocol = byte(packet.V311)
	}
	perPub := sent(pubs)
	for _, n := range perPub {
		r.Sent += int64(n)
	}
	r.Expected = r.Sent * int64(len(subs))
	var last int64
	var samples []time.Duration
	for _, s := range subs {
		r.Received += s.track.Unique
		r.Lost += s.track.Lost(perPub)
		r.Duplicates += s.track.Duplicates
		r.Reordered += s.track.Reordered
		r.Stray += s.stray + s.track.Invalid
		last = max(last, s.last.Load())
		samples = append(samples, s.latency...)
	}
	if last > 0 {
		r.Elapsed = time.Duration(last) - start.Sub(epoch)
	}
	if r.Elapsed > 0 {
		r.Rate = float64(r.Received) / r.Elapsed.Seconds()
	}
	if c.RecordLatency {
		l := Summarize(samples)
		r.Latency = &l
	}
	return r
}
