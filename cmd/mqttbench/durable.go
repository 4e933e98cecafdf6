package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"time"

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

// DurableResult is what the durable scenario measured.
type DurableResult struct {
	FlowResult
	// Queued is how many messages the gateway's durable queue held after
	// the run, from `gateway queue stats`: every message sent, if the
	// write-ahead works. -1 when it could not be read.
	Queued int64 `json:"queued"`
}

// runDurable runs flow (a QoS 1 fan-in) against a gateway whose bridge
// points at an upstream that refuses every connection: every message is
// appended (fsync'd) to the queue before its PUBACK. Afterwards it stops the
// gateway and counts what its queue holds.
func runDurable(ctx context.Context, gatewayBin string, flow FlowConfig) (DurableResult, error) {
	dead, err := newGate("")
	if err != nil {
		return DurableResult{}, err
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
		return DurableResult{}, err
	}
	defer gw.Stop()
	flow.Addr = gw.Addr
	res, err := runFlow(ctx, flow)
	if err != nil {
		if exited(gw) {
			err = fmt.Errorf("%w\nedgegw has exited; the end of its output:\n%s", err, gw.Log())
		}
		return DurableResult{}, err
	}
	gw.terminate()
	return DurableResult{FlowResult: res, Queued: queuedMessages(gatewayBin, gw.conf)}, nil
}

// Summary is a one-line description of r.
func (r DurableResult) Summary() string {
	q := "unknown"
	if r.Queued >= 0 {
		q = strconv.FormatInt(r.Queued, 10)
	}
	return r.FlowResult.Summary() + ", queued on disk " + q
}

//

// queueLine matches a queue in the output of `gateway queue stats`.
var queueLine = regexp.MustCompile(`(?m)^queue \S+: (\d+) messages`)

// queuedMessages runs `gateway queue stats -config conf` and adds up the
// queues' messages; -1 when that fails.
func queuedMessages(bin, conf string) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "queue", "stats", "-config", conf).Output()
	m := queueLine.FindAllSubmatch(out, -1)
	if err != nil || len(m) == 0 {
		return -1
	}
	var n int64
	for _, q := range m {
		v, _ := strconv.ParseInt(string(q[1]), 10, 64)
		n += v
	}
	return n
}
