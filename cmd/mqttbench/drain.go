package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"golang.org/x/sync/errgroup"
)

// DrainConfig configures the drain scenario.
type DrainConfig struct {
	// Gateway and Mosquitto are the executables.
	Gateway, Mosquitto string
	// Upstream is the upstream broker: "mosquitto" (the default) or
	// "edgegw" (a second gateway, broker only): Mosquitto takes QoS 1 from
	// one connection at about the rate the drain reaches, so the drain's
	// own ceiling shows only with a faster upstream.
	Upstream string
	// Messages is the backlog built while the upstream is down.
	Messages int
	// PayloadSize and Window shape the publisher that builds the backlog.
	PayloadSize, Window int
	// Timeout bounds building the backlog, and separately draining it.
	Timeout time.Duration
}

// DrainResult is what the drain scenario measured.
type DrainResult struct {
	// Messages is the backlog: messages the gateway acknowledged while its
	// upstream was down.
	Messages int64 `json:"messages"`
	// Received, Lost, Duplicates and Reordered count what the upstream
	// subscriber got.
	Received   int64 `json:"received"`
	Lost       int64 `json:"lost"`
	Duplicates int64 `json:"duplicates"`
	Reordered  int64 `json:"reordered"`
	// Reconnect runs from opening the upstream to the first delivery.
	Reconnect time.Duration `json:"reconnect_ns"`
	// Elapsed runs from the first delivery upstream to the last.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Rate is Received / Elapsed in msg/s.
	Rate float64 `json:"rate"`
}

// runDrain builds a backlog of c.Messages QoS 1 messages in a gateway whose
// upstream (a Mosquitto behind a closed gate) is down, then opens the gate
// and measures how fast the backlog arrives at a subscriber of the upstream.
func runDrain(ctx context.Context, c DrainConfig) (DrainResult, error) {
	if c.Messages < 1 || c.Messages >= maxSeq {
		return DrainResult{}, fmt.Errorf("mqttbench: drain: messages %d: want 1 to %d", c.Messages, maxSeq-1)
	}
	var up *broker
	var err error
	switch c.Upstream {
	case "", nameMosquitto:
		up, err = startMosquitto(ctx, c.Mosquitto)
	case nameEdgegw:
		up, err = startGateway(ctx, c.Gateway, gatewayOptions{ID: "upstream"})
	default:
		return DrainResult{}, fmt.Errorf("mqttbench: drain: upstream %q: want mosquitto or edgegw", c.Upstream)
	}
	if err != nil {
		return DrainResult{}, err
	}
	defer up.Stop()
	gt, err := newGate(up.Addr)
	if err != nil {
		return DrainResult{}, err
	}
	defer gt.start(ctx)()
	gw, err := startGateway(ctx, c.Gateway, gatewayOptions{Bridge: bridgeConf(gt.Addr())})
	if err != nil {
		return DrainResult{}, err
	}
	defer gw.Stop()

	run := rand.Uint32()
	if err := fillBacklog(ctx, gw.Addr, run, c); err != nil {
		return DrainResult{}, err
	}
	res, err := awaitDrain(ctx, up.Addr, run, c, gt.Open)
	if err != nil && exited(gw) {
		err = fmt.Errorf("%w\nedgegw has exited; the end of its output:\n%s", err, gw.Log())
	}
	return res, err
}

// Summary is a one-line description of r.
func (r DrainResult) Summary() string {
	return fmt.Sprintf("%8.0f msg/s  backlog %d, received %d, lost %d, dup %d, reordered %d, first after %v",
		r.Rate, r.Messages, r.Received, r.Lost, r.Duplicates, r.Reordered, round(r.Reconnect))
}

//

// fillBacklog publishes c.Messages QoS 1 messages into the gateway and
// waits for every PUBACK: they are then on disk.
func fillBacklog(ctx context.Context, addr string, run uint32, c DrainConfig) error {
	cn, err := dial(ctx, addr, clientID("fill", run, 0), 0)
	if err != nil {
		return err
	}
	p := newPublisher(cn, run, 0, 1, c.Window, c.PayloadSize)
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	connCtx, stop := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(connCtx)
	g.Go(func() error { return cn.run(gctx, p.handle) })
	err = p.sendN(gctx, c.Messages)
	if err == nil {
		err = p.drain(gctx)
	}
	stop()
	if werr := g.Wait(); werr != nil {
		return fmt.Errorf("mqttbench: drain: building the backlog: %w", werr)
	}
	if err != nil {
		return fmt.Errorf("mqttbench: drain: building the backlog: %w", err)
	}
	return nil
}

// awaitDrain subscribes to the upstream, calls open, and waits until every
// message of the backlog arrived, none arrived for 10 s, or c.Timeout
// passed.
func awaitDrain(ctx context.Context, upAddr string, run uint32, c DrainConfig, open func()) (DrainResult, error) {
	cn, err := dial(ctx, upAddr, clientID("drain", run, 0), 0)
	if err != nil {
		return DrainResult{}, err
	}
	if err := cn.subscribe(ctx, "bench/#", 1); err != nil {
		cn.close()
		return DrainResult{}, err
	}
	s := newSubscriber(cn, run, 1, 1, false)
	connCtx, stop := context.WithCancel(ctx)
	defer stop()
	g, gctx := errgroup.WithContext(connCtx)
	g.Go(func() error { return cn.run(gctx, s.handle) })

	opened := now()
	open()
	waitErr := awaitDeliveries(gctx, FlowConfig{DrainTimeout: c.Timeout, Quiet: 10 * time.Second},
		[]*subscriber{s}, []uint64{uint64(c.Messages)})
	stop()
	if err := errors.Join(g.Wait(), waitErr); err != nil {
		return DrainResult{}, err
	}
	r := DrainResult{Messages: int64(c.Messages), Received: s.track.Unique,
		Lost: s.track.Lost([]uint64{uint64(c.Messages)}), Duplicates: s.track.Duplicates, Reordered: s.track.Reordered}
	if first, last := s.first.Load(), s.last.Load(); first > 0 {
		r.Reconnect = time.Duration(first - opened)
		r.Elapsed = time.Duration(last - first)
	}
	if r.Elapsed > 0 {
		r.Rate = float64(r.Received) / r.Elapsed.Seconds()
	}
	return r, nil
}
