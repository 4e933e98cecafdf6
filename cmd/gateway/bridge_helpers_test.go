package main

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// Bounds for the bridge tests' waits. Generous: a drain of a few hundred
// messages through a slowed proxy on a loaded machine; a bound for a broken
// test, not a performance assertion.
const (
	drainWait  = 60 * time.Second
	statusWait = 30 * time.Second
)

// Monitor topics of bridgeConfig, and the local $SYS topic with the depth
// of the bridge's queue.
const (
	statusTopic  = "gateways/test/status"
	metricsTopic = "gateways/test/metrics"
	queueTopic   = "$SYS/gateway/queue/messages"
)

// bridgeConfig is baseConfig with a bridge to upstream ("host:port"):
// sensors/# out at outQoS and cmd/# in at QoS 1, both under "gw/", short
// keepalive and backoff, monitor topics every second.
func bridgeConfig(upstream string, outQoS int, extra ...string) string {
	return baseConfig + fmt.Sprintf(`bridge:
  addresses: ["tcp://%s"]
  client_id: e2e-gw
%s  keepalive: 2s
  reconnect: {min_delay: 100ms, max_delay: 1s}
  topics:
    - {pattern: "sensors/#", direction: out, qos: %d, remote_prefix: "gw/"}
    - {pattern: "cmd/#", direction: in, qos: 1, remote_prefix: "gw/"}
monitor: {topic_prefix: gateways/test, metrics_interval: 1s}
`, upstream, strings.Join(extra, ""), outQoS)
}

// waitState waits until the last status the upstream subscriber s saw is
// state, and returns that message.
func waitState(t testing.TB, s *mqtttest.Subscriber, state string) mqtttest.Message {
	t.Helper()
	var last mqtttest.Message
	waitFor(t, statusWait, fmt.Sprintf("%s state %q upstream", statusTopic, state), func() bool {
		ms := s.On(statusTopic)
		if len(ms) == 0 {
			return false
		}
		last = ms[len(ms)-1]
		return stateOf(last.Payload) == state
	}, func() string { return fmt.Sprintf("last status %q", last.Payload) })
	return last
}

// retainedStatus connects a fresh subscriber to the upstream and returns the
// retained status it gets.
func retainedStatus(t testing.TB, up string) mqtttest.Message {
	t.Helper()
	s := mqtttest.Subscribe(t, up, statusTopic)
	defer s.Disconnect()
	mqtttest.WaitFor(t, func() bool { return len(s.On(statusTopic)) > 0 }, "a retained %s", statusTopic)
	return s.On(statusTopic)[0]
}

// publishAll publishes n numbered messages of run on topic at qos, all in
// flight at once, and waits for every flow to complete (PUBACK/PUBCOMP).
func publishAll(t testing.TB, c *client, topic, run string, qos byte, n, size int) {
	t.Helper()
	toks := make([]paho.Token, n)
	for i := range toks {
		toks[i] = c.Publish(topic, qos, false, seqPayload(run, i, size))
	}
	for i, tok := range toks {
		if !tok.WaitTimeout(tokenWait) || tok.Error() != nil {
			t.Fatalf("local publish %d of %d (%s): not acknowledged: %v", i, n, run, tok.Error())
		}
	}
}

// waitUpstream waits until the upstream subscriber got every number of want
// (of run, on topic) at least once, and returns what it got.
func waitUpstream(t testing.TB, s *mqtttest.Subscriber, topic, run string, want []int, bound time.Duration) []int {
	t.Helper()
	var got []int
	waitFor(t, bound, fmt.Sprintf("%d messages of %s on %s upstream", len(want), run, topic), func() bool {
		got = seqs(s.Messages(), topic, run)
		return len(missing(want, got)) == 0
	}, func() string {
		m := missing(want, got)
		return fmt.Sprintf("%d arrived (%d distinct), %d missing, first missing %v", len(got), distinct(got), len(m), head(m, 10))
	})
	return got
}

func head(s []int, n int) []int {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// sysValue returns the last value of a local $SYS topic as an integer.
func sysValue(c *client, topic string) (int, bool) {
	m, ok := c.last(topic)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(m.Payload)))
	return n, err == nil
}

// waitQueue waits until the last queue depth the local client c saw on
// queueTopic (c must subscribe to it) satisfies ok, failing the test after
// bound with what and the last depth published.
func waitQueue(t testing.TB, c *client, bound time.Duration, what string, ok func(depth int) bool) {
	t.Helper()
	waitFor(t, bound, what, func() bool {
		v, seen := sysValue(c, queueTopic)
		return seen && ok(v)
	}, func() string { return lastPayload(c, queueTopic) })
}

// isEmpty is the waitQueue condition of an empty queue.
func isEmpty(depth int) bool { return depth == 0 }

// burst publishes numbered QoS 1/2 messages as fast as the window allows
// until stopped or the connection is lost, and records which were
// acknowledged (PUBACK / PUBCOMP received).
type burst struct {
	run  string
	stop chan struct{}
	done chan struct{}

	mu    sync.Mutex
	acked []int
	sent  int
}

// startBurst starts publishing on topic with at most window flows in
// flight.
func startBurst(c *client, topic, run string, qos byte, size, window int) *burst {
	b := &burst{run: run, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		type flow struct {
			n   int
			tok paho.Token
		}
		var pending []flow
		settle := func(f flow) bool {
			ok := f.tok.WaitTimeout(tokenWait) && f.tok.Error() == nil
			if ok {
				b.mu.Lock()
				b.acked = append(b.acked, f.n)
				b.mu.Unlock()
			}
			return ok
		}
	loop:
		for i := 0; ; i++ {
			select {
			case <-b.stop:
				break loop
			default:
			}
			if !c.IsConnectionOpen() {
				break
			}
			pending = append(pending, flow{i, c.Publish(topic, qos, false, seqPayload(run, i, size))})
			b.mu.Lock()
			b.sent = i + 1
			b.mu.Unlock()
			if len(pending) >= window {
				f := pending[0]
				pending = pending[1:]
				if !settle(f) && !c.IsConnectionOpen() {
					break
				}
			}
		}
		for _, f := range pending {
			settle(f)
		}
	}()
	return b
}

// Acked returns how many messages were acknowledged so far.
func (b *burst) Acked() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.acked)
}

// Wait stops the burst (if still running) and returns the acknowledged
// numbers and how many were published.
func (b *burst) Wait() (acked []int, sent int) {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.acked...), b.sent
}
