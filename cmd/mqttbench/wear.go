package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// WearConfig configures the wear scenario: what the real gateway binary
// writes to its data_dir's device under steady workloads (issue 8, §3).
type WearConfig struct {
	// Gateway and Mosquitto are the executables.
	Gateway, Mosquitto string
	// Strace is the strace binary that counts sync calls; "" = fsyncs are
	// not counted.
	Strace string
	// Workloads selects workloads by name (see wearWorkloads); empty = all.
	Workloads []string
	// SensorWindow is the measurement window of W1 and W2.
	SensorWindow time.Duration
	// PublisherWindow is the publishing time of W3 and W4.
	PublisherWindow time.Duration
	// Warmup passes between the start and the measurement (start-up
	// writes, the first connection upstream).
	Warmup time.Duration
	// Sensors and SensorInterval shape W1 and W2: sim sensors with one
	// quantity each, polled every SensorInterval, at QoS 1.
	Sensors        int
	SensorInterval time.Duration
	// Publishers and Rate shape W3 and W4: QoS 1 publishers sending Rate
	// msg/s in total on a bridged topic.
	Publishers int
	Rate       float64
	// Delay is the slow link's delay each way (W1 through the proxy).
	Delay time.Duration
	// NoMosquitto skips Mosquitto's side of W3 and W4.
	NoMosquitto bool
	// Progress receives one line per measurement; nil discards them.
	Progress io.Writer
}

// mosquittoAutosave is the autosave_interval of the Mosquitto that plays
// the gateway's role: its default, 30 minutes.
const mosquittoAutosave = 1800 * time.Second

// WearResult is what one workload wrote on one broker.
type WearResult struct {
	Workload    string `json:"workload"`
	Description string `json:"description"`
	Broker      string `json:"broker"`
	// Window is the measured time.
	Window time.Duration `json:"window_ns"`
	// Messages counts the messages of the window: readings published by
	// the sensors (counted by a local subscriber), or messages the local
	// publishers had acknowledged.
	Messages int64 `json:"messages"`
	// Upstream counts the workload's messages that arrived at the upstream
	// during the window (0 when it is down).
	Upstream int64 `json:"upstream"`
	// IO is the broker's I/O during the window.
	IO ProcIO `json:"io"`
	// Fsyncs counts its sync calls during the window; -1 = not counted.
	Fsyncs int64 `json:"fsyncs"`
	// SaveBytes (Mosquitto only) is what one persistence save right after
	// the window wrote (SIGUSR1; an autosave writes the same); -1 = none.
	SaveBytes int64 `json:"save_bytes"`
	// Derived figures: write_bytes per message, extrapolated to a day,
	// sync calls and write calls per second.
	BytesPerMsg  float64 `json:"bytes_per_msg"`
	MBPerDay     float64 `json:"mb_per_day"`
	FsyncsPerSec float64 `json:"fsyncs_per_s"`
	SyscwPerSec  float64 `json:"syscw_per_s"`
	// Target is the workload's budget, as text, and whether it was met
	// (nil: no target).
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
}

// workload is one wear workload.
type workload struct {
	name, desc string
	sensors    bool   // sim sensors (W1, W2) rather than local publishers (W3, W4)
	uplink     string // "up", "nagle" (upstream without TCP_NODELAY), "slow" (through the delay proxy) or "down"
	mosquitto  bool   // also measure Mosquitto in the gateway's role
	// target checks the edgegw result; "" = none.
	target string
	met    func(WearResult) bool
}

// wearWorkloads are the workloads of issue 8 in table order.
var wearWorkloads = []workload{
	{name: "W1", desc: "sim sensors, QoS 1, uplink up", sensors: true, uplink: "up",
		target: "≤ 20 MB/day", met: func(r WearResult) bool { return r.MBPerDay <= 20 }},
	{name: "W1-slow", desc: "W1 through a delay proxy", sensors: true, uplink: "slow",
		target: "≤ 50 MB/day", met: func(r WearResult) bool { return r.MBPerDay <= 50 }},
	{name: "W2", desc: "sim sensors, QoS 1, uplink down", sensors: true, uplink: "down",
		target: "≤ 4 KB/msg", met: func(r WearResult) bool { return r.BytesPerMsg <= 4000 }},
	{name: "W3", desc: "local publishers, QoS 1, uplink up", uplink: "up", mosquitto: true},
	{name: "W3-nagle", desc: "W3, upstream Mosquitto with Nagle on (its default)", uplink: "nagle"},
	{name: "W4", desc: "local publishers, QoS 1, uplink down", uplink: "down", mosquitto: true},
}

// runWear runs the selected workloads, each on a fresh gateway (and for W3
// and W4 a fresh Mosquitto), one after the other. A failed measurement is
// returned in errs; the others still run.
func runWear(ctx context.Context, c WearConfig) (res []WearResult, errs []error) {
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	for _, w := range selectWorkloads(c.Workloads) {
		brokers := []string{nameEdgegw}
		if w.mosquitto && !c.NoMosquitto {
			brokers = append(brokers, nameMosquitto)
		}
		for _, b := range brokers {
			if ctx.Err() != nil {
				return res, append(errs, ctx.Err())
			}
			r, err := runWorkload(ctx, c, w, b)
			if err != nil {
				err = fmt.Errorf("%s, %s: %w", w.name, b, err)
				fmt.Fprintf(c.Progress, "  FAILED %v\n", err)
				errs = append(errs, err)
				continue
			}
			fmt.Fprintf(c.Progress, "  %-9s %-8s %s\n", b, w.name, r.Summary())
			res = append(res, r)
		}
	}
	return res, errs
}

// checkWorkloads rejects unknown workload names.
func checkWorkloads(names []string) error {
	for _, n := range names {
		if len(selectWorkloads([]string{n})) == 0 {
			return fmt.Errorf("mqttbench: wear: unknown workload %q (want %s)", n, strings.Join(workloadNames(), ", "))
		}
	}
	return nil
}

// workloadNames are the names of wearWorkloads, in table order.
func workloadNames() []string {
	names := make([]string, len(wearWorkloads))
	for i, w := range wearWorkloads {
		names[i] = w.name
	}
	return names
}

// Summary is a one-line description of r.
func (r WearResult) Summary() string {
	s := fmt.Sprintf("%d msgs in %v (upstream %d): wrote %d B, %.0f B/msg, %.1f MB/day, fsyncs/s %s, syscw/s %.0f",
		r.Messages, round(r.Window), r.Upstream, r.IO.WriteBytes, r.BytesPerMsg, r.MBPerDay, r.fsyncsCell(), r.SyscwPerSec)
	if r.SaveBytes >= 0 {
		s += fmt.Sprintf("; one save after the window %d B", r.SaveBytes)
	}
	return s
}

//

// selectWorkloads returns the workloads named (case-insensitive), in table
// order; all of them when names is empty.
func selectWorkloads(names []string) []workload {
	if len(names) == 0 {
		return wearWorkloads
	}
	var out []workload
	for _, w := range wearWorkloads {
		for _, n := range names {
			if strings.EqualFold(w.name, n) {
				out = append(out, w)
				break
			}
		}
	}
	return out
}

// runWorkload runs workload w on broker name with its upstream.
func runWorkload(ctx context.Context, c WearConfig, w workload, name string) (WearResult, error) {
	up, stopUp, err := startUplink(ctx, c, w.uplink)
	if err != nil {
		return WearResult{}, err
	}
	defer stopUp()
	var b *broker
	if name == nameEdgegw {
		b, err = startGateway(ctx, c.Gateway, gatewayOptions{Bridge: wearBridgeConf(up.bridgeAddr),
			Sensors: wearSensorsConf(c, w), Strace: c.Strace})
	} else {
		b, err = startMosquittoWith(ctx, c.Mosquitto, c.Strace, func(dir string, port int) string {
			return mosquittoBridgeConf(port, dir, up.bridgeAddr)
		})
	}
	if err != nil {
		return WearResult{}, err
	}
	defer b.Stop()
	fmt.Fprintf(c.Progress, "  %-9s %-8s pid %d, measuring for %v after %v\n", b.Name, w.name, b.PID(), c.window(w), c.Warmup)
	r, err := measureWear(ctx, c, w, b, up.addr)
	if err != nil && exited(b) {
		err = fmt.Errorf("%w\n%s has exited; the end of its output:\n%s", err, b.Name, b.Log())
	}
	return r, err
}

// uplink is the upstream of a workload.
type uplink struct {
	addr       string // the upstream broker's address, "" when down
	bridgeAddr string // where the bridge connects
}

// startUplink starts the upstream for mode "up", "nagle", "slow" or "down"
// (a closed loopback port).
func startUplink(ctx context.Context, c WearConfig, mode string) (uplink, func(), error) {
	if mode == "down" {
		port, err := freePort()
		return uplink{bridgeAddr: fmt.Sprintf("127.0.0.1:%d", port)}, func() {}, err
	}
	mosq, err := startMosquittoWith(ctx, c.Mosquitto, "", func(_ string, port int) string {
		if mode == "nagle" {
			// Mosquitto's default: its small PUBACKs wait for the
			// peer's TCP acknowledgement of the previous segment.
			return strings.Replace(mosquittoConf(port), "set_tcp_nodelay true\n", "", 1)
		}
		return mosquittoConf(port)
	})
	if err != nil {
		return uplink{}, nil, err
	}
	if mode != "slow" {
		return uplink{addr: mosq.Addr, bridgeAddr: mosq.Addr}, mosq.Stop, nil
	}
	g, err := newDelayGate(mosq.Addr, c.Delay)
	if err != nil {
		mosq.Stop()
		return uplink{}, nil, err
	}
	stopGate := g.start(ctx)
	return uplink{addr: mosq.Addr, bridgeAddr: g.Addr()}, func() {
		stopGate()
		mosq.Stop()
	}, nil
}

// measureWear waits out the warm-up, then reads the broker's I/O around
// the workload's window and derives the rates. The broker is stopped at
// the end (strace's log is complete only then).
func measureWear(ctx context.Context, c WearConfig, w workload, b *broker, upAddr string) (WearResult, error) {
	topic := "bench/#"
	if w.sensors {
		topic = "sensors/#"
	}
	cctx, stopCount := context.WithCancel(ctx)
	var g errgroup.Group
	defer func() {
		stopCount()
		_ = g.Wait()
	}()
	local, err := countMessages(cctx, &g, b.Addr, topic)
	if err != nil {
		return WearResult{}, err
	}
	upstream := new(atomic.Int64)
	if upAddr != "" {
		if upstream, err = countMessages(cctx, &g, upAddr, topic); err != nil {
			return WearResult{}, err
		}
	}
	if err := sleep(ctx, c.Warmup); err != nil {
		return WearResult{}, err
	}
	r := WearResult{Workload: w.name, Description: describe(c, w), Broker: b.Name, Fsyncs: -1, SaveBytes: -1}
	io0, err := readProcIO(b.PID())
	if err != nil {
		return WearResult{}, err
	}
	t0, u0 := time.Now(), upstream.Load()
	if r.Messages, err = c.load(ctx, w, b.Addr, local); err != nil {
		return WearResult{}, err
	}
	io1, err := readProcIO(b.PID())
	if err != nil {
		return WearResult{}, err
	}
	t1 := time.Now()
	r.Window, r.IO, r.Upstream = t1.Sub(t0), io1.Sub(io0), upstream.Load()-u0
	if b.Name == nameMosquitto {
		if r.SaveBytes, err = mosquittoSave(ctx, b, io1); err != nil {
			return WearResult{}, err
		}
	}
	b.terminate()
	if b.trace != "" {
		if r.Fsyncs, err = b.syncs(t0, t1); err != nil {
			return WearResult{}, err
		}
	}
	r.derive()
	return r, r.judge(w)
}

// load runs w's load on the broker at addr for the window and returns the
// messages of the window: the readings the local subscriber counted (local)
// or the messages the publishers had acknowledged.
func (c WearConfig) load(ctx context.Context, w workload, addr string, local *atomic.Int64) (int64, error) {
	if w.sensors {
		n0 := local.Load()
		err := sleep(ctx, c.SensorWindow)
		return local.Load() - n0, err
	}
	fr, err := runFlow(ctx, FlowConfig{Addr: addr, Publishers: c.Publishers, Subscribers: 1, QoS: 1,
		PayloadSize: 64, Window: 64, Duration: c.PublisherWindow, Rate: c.Rate, DrainTimeout: 30 * time.Second,
		Quiet: 5 * time.Second, Backlog: defaultBacklog})
	return fr.Sent, err
}

// judge sets r's verdict on w's target (edgegw only) and fails a window
// without messages, or without any upstream while the uplink is up.
func (r *WearResult) judge(w workload) error {
	if w.met != nil && r.Broker == nameEdgegw {
		met := w.met(*r)
		r.Target, r.Met = w.target, &met
	}
	if r.Messages == 0 {
		return errors.New("mqttbench: wear: no messages in the window")
	}
	if w.uplink != "down" && r.Upstream == 0 {
		return errors.New("mqttbench: wear: the uplink is up but no message arrived upstream")
	}
	return nil
}

// derive computes the per-message and per-day figures.
func (r *WearResult) derive() {
	secs := r.Window.Seconds()
	if secs <= 0 {
		return
	}
	if r.Messages > 0 {
		r.BytesPerMsg = float64(r.IO.WriteBytes) / float64(r.Messages)
	}
	r.MBPerDay = float64(r.IO.WriteBytes) / secs * 86400 / 1e6
	r.SyscwPerSec = float64(r.IO.Syscw) / secs
	if r.Fsyncs >= 0 {
		r.FsyncsPerSec = float64(r.Fsyncs) / secs
	}
}

// window is workload w's measurement window (W3, W4: the publishing time).
func (c WearConfig) window(w workload) time.Duration {
	if w.sensors {
		return c.SensorWindow
	}
	return c.PublisherWindow
}

// describe is the workload's description with its parameters.
func describe(c WearConfig, w workload) string {
	var s string
	if w.sensors {
		s = fmt.Sprintf("%d sim sensors every %v", c.Sensors, c.SensorInterval)
	} else {
		s = fmt.Sprintf("%d publishers, %.0f msg/s", c.Publishers, c.Rate)
	}
	switch w.uplink {
	case "nagle":
		return s + ", uplink up (Nagle)"
	case "slow":
		return s + fmt.Sprintf(", uplink +%v each way", c.Delay)
	case "down":
		return s + ", uplink down"
	}
	return s + ", uplink up"
}

// syncs counts the broker's sync calls in [from, to) from its strace log.
func (b *broker) syncs(from, to time.Time) (int64, error) {
	f, err := os.Open(b.trace)
	if err != nil {
		return 0, fmt.Errorf("mqttbench: %w", err)
	}
	defer f.Close()
	return countSyncs(f, from, to)
}

// mosquittoSave asks Mosquitto to write its persistence database
// (SIGUSR1, what an autosave does) and returns the bytes that wrote, once
// write_bytes has stopped growing (at most 10 s).
func mosquittoSave(ctx context.Context, b *broker, before ProcIO) (int64, error) {
	if err := syscall.Kill(b.PID(), syscall.SIGUSR1); err != nil {
		return 0, fmt.Errorf("mqttbench: signal mosquitto: %w", err)
	}
	last, stable := before.WriteBytes, 0
	for range 100 {
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return 0, err
		}
		p, err := readProcIO(b.PID())
		if err != nil {
			return 0, err
		}
		if p.WriteBytes == last && p.WriteBytes > before.WriteBytes {
			if stable++; stable == 5 {
				break
			}
		} else {
			stable = 0
		}
		last = p.WriteBytes
	}
	return last - before.WriteBytes, nil
}

// countMessages subscribes to filter at QoS 0 on addr and counts the
// messages that arrive until ctx is done; the connection runs in g.
func countMessages(ctx context.Context, g *errgroup.Group, addr, filter string) (*atomic.Int64, error) {
	cn, err := dial(ctx, addr, fmt.Sprintf("mqttbench-count-%d", time.Now().UnixNano()), 0)
	if err != nil {
		return nil, err
	}
	if err := cn.subscribe(ctx, filter, 0); err != nil {
		cn.close()
		return nil, err
	}
	n := new(atomic.Int64)
	g.Go(func() error {
		return cn.run(ctx, func(p packet.Packet) error {
			if _, ok := p.(*packet.Publish); ok {
				n.Add(1)
			}
			return nil
		})
	})
	return n, nil
}

// wearBridgeConf is the gateway's bridge for the wear workloads: the
// sensors' and the publishers' topics out at QoS 1, everything else at its
// default (what a user gets: persistent session, 20 in flight, reconnect
// 1 s to 2 min, metrics every 30 s).
func wearBridgeConf(upstream string) string {
	return fmt.Sprintf(`bridge:
  addresses: ["tcp://%s"]
  client_id: mqttbench-wear
  topics:
    - {pattern: "sensors/#", direction: out, qos: 1}
    - {pattern: "bench/#", direction: out, qos: 1}
`, upstream)
}

// wearSensorsConf is the sensors section of W1 and W2 ("" for W3, W4):
// c.Sensors sim sensors with one quantity each, at QoS 1.
func wearSensorsConf(c WearConfig, w workload) string {
	if !w.sensors {
		return ""
	}
	var b strings.Builder
	b.WriteString("sensors:\n")
	for i := range c.Sensors {
		fmt.Fprintf(&b, "  - {name: s%d, driver: sim, interval: %v, qos: 1, quantities: [temperature]}\n",
			i, c.SensorInterval)
	}
	return b.String()
}

// mosquittoBridgeConf is a Mosquitto in the gateway's role: the benchmark
// configuration with persistence on (autosave_interval at its default,
// mosquittoAutosave) and a bridge forwarding bench/# at QoS 1 to upstream
// with a persistent session, so that it queues for the upstream while it
// is down (without limit, like the benchmark's queues).
func mosquittoBridgeConf(port int, dir, upstream string) string {
	conf := strings.Replace(mosquittoConf(port), "persistence false\n", fmt.Sprintf(
		"persistence true\npersistence_location %s/\nautosave_interval %d\n", dir, int(mosquittoAutosave.Seconds())), 1)
	return conf + fmt.Sprintf(`connection wear
address %s
bridge_protocol_version mqttv311
cleansession false
topic bench/# out 1
`, upstream)
}
