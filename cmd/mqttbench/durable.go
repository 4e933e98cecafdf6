package main

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// bridgeConf is the gateway's bridge section for the durable and drain
// scenarios: bench/# is forwarded upstream at QoS 1 (so every message goes
// through the durable queue), reconnecting quickly.
func bridgeConf(upstream string) string {
	return fmt.Sprintf(`bridge:
  addresses: ["tcp://%s"]
  client_id: mqttbench-bridge
  clean_session: true
  inflight: 100
  reconnect: {min_delay: 50ms, max_delay: 200ms}
  topics:
    - {pattern: "bench/#", direction: out, qos: 1}
  queue: {max_messages: 20000000, max_bytes: 4GiB, overflow: drop_new}
`, upstream)
}

// runDurable runs flow (a QoS 1 fan-in) against a gateway whose bridge
// points at an upstream that refuses every connection: every message is
// appended (fsync'd) to the queue before its PUBACK.
func runDurable(ctx context.Context, gatewayBin string, flow FlowConfig) (FlowResult, error) {
	dead, err := newGate("")
	if err != nil {
		return FlowResult{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
	g.Go(func() error { return dead.Run(ctx) })
	defer func() {
		cancel()
		_ = g.Wait()
	}()

	gw, err := startGateway(ctx, gatewayBin, gatewayOptions{Bridge: bridgeConf(dead.Addr())})
	if err != nil {
		return FlowResult{}, err
	}
	defer gw.Stop()
	flow.Addr = gw.Addr
	res, err := runFlow(ctx, flow)
	if err != nil && exited(gw) {
		err = fmt.Errorf("%w\nedgegw has exited; the end of its output:\n%s", err, gw.Log())
	}
	return res, err
}
