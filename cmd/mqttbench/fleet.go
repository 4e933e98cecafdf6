package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// FleetConfig configures the fleet scenario (issue 13, §3): N real gateway
// processes bridged to one Mosquitto, which is stopped and restarted.
type FleetConfig struct {
	// Gateway and Mosquitto are the executables.
	Gateway, Mosquitto string
	// Gateways is the fleet's size.
	Gateways int
	// Outages are the upstream's outages, one after the other: from its
	// stop to its restart on the same port.
	Outages []time.Duration
	// Steady is the time between the fleet being online (at the start, and
	// after each recovery) and the next outage.
	Steady time.Duration
	// SensorInterval is the period of each gateway's one sim sensor (one
	// quantity, QoS 1).
	SensorInterval time.Duration
	// MinDelay, MaxDelay and DrainRate set the bridges' reconnect.min_delay,
	// reconnect.max_delay and drain_rate; zero leaves the key out (the
	// gateway's default).
	MinDelay, MaxDelay time.Duration
	DrainRate          float64
	// StartTimeout bounds starting the fleet until every gateway is online
	// upstream; RecoverTimeout bounds each recovery.
	StartTimeout, RecoverTimeout time.Duration
	// Parallel gateways are started at a time.
	Parallel int
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
}

// FleetResult is what the fleet scenario measured.
type FleetResult struct {
	Gateways int `json:"gateways"`
	// Bridge is the reconnect and drain settings, as configured.
	Bridge string `json:"bridge"`
	// Started is how long starting the fleet took, until every gateway
	// was online upstream.
	Started time.Duration `json:"started_ns"`
	// Outages has one entry per outage.
	Outages []FleetOutage `json:"outages"`
	// Readings counts the readings the gateways' local subscribers saw
	// (before the final check); Lost those that never arrived upstream,
	// Duplicates the extra arrivals (QoS 1 is at least once).
	Readings   int64 `json:"readings"`
	Lost       int64 `json:"lost"`
	Duplicates int64 `json:"duplicates"`
	// GatewayRSS are the gateways' VmRSS at the end (median, max), and the
	// largest VmHWM.
	GatewayRSSMedian int64 `json:"gateway_rss_median"`
	GatewayRSSMax    int64 `json:"gateway_rss_max"`
	GatewayHWMMax    int64 `json:"gateway_hwm_max"`
	// GatewayCPU is the gateways' mean CPU use over the run, in % of one
	// core per gateway.
	GatewayCPU float64 `json:"gateway_cpu_pct"`
	// Conditions describes the machine during the run.
	Conditions string `json:"conditions"`
}

// FleetOutage is one outage and the fleet's recovery from it.
type FleetOutage struct {
	// Outage is from the upstream's stop to its return (the gate open).
	Outage time.Duration `json:"outage_ns"`
	// Attempts are the connection attempts during the outage (accepted and
	// dropped by the gate), from its start.
	Attempts Storm `json:"attempts"`
	// Connects are the connections the upstream accepted after its
	// return, until the recovery ended, from its return.
	Connects Storm `json:"connects"`
	// Online is when the last gateway was online again; Drained when the
	// last reading published before its gateway was back arrived
	// upstream (both from the return).
	Online  time.Duration `json:"online_ns"`
	Drained time.Duration `json:"drained_ns"`
	// Backlog counts the readings published from the stop until their
	// gateway was back online.
	Backlog int64 `json:"backlog"`
	// UpstreamCPUPeak is the restarted Mosquitto's busiest second during
	// the recovery (% of one core), UpstreamCPU its CPU time then, and
	// UpstreamRSSPeak its largest RSS.
	UpstreamCPUPeak float64       `json:"upstream_cpu_peak_pct"`
	UpstreamCPU     time.Duration `json:"upstream_cpu_ns"`
	UpstreamRSSPeak int64         `json:"upstream_rss_peak"`
	// Recovered is false when RecoverTimeout passed first.
	Recovered bool `json:"recovered"`
}

// runFleet runs the fleet scenario.
func runFleet(ctx context.Context, c FleetConfig) (FleetResult, error) {
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if err := raiseNoFile(uint64(8*c.Gateways + minNoFile)); err != nil {
		fmt.Fprintf(c.Progress, "mqttbench: fleet: warning: %v\n", err)
	}
	f := &fleet{c: c, ledger: newLedger()}
	defer f.stop()
	if err := f.start(ctx); err != nil {
		return FleetResult{}, err
	}
	res := FleetResult{Gateways: c.Gateways, Bridge: strings.Join(c.bridgeKeys(), ", "), Conditions: conditions()}
	if _, ok, err := f.awaitRecovery(ctx, f.t0, f.t0, c.StartTimeout); err != nil || !ok {
		return res, errors.Join(err, fmt.Errorf("mqttbench: fleet: not every gateway online upstream within %v", c.StartTimeout))
	}
	res.Started = time.Since(f.t0)
	fmt.Fprintf(c.Progress, "fleet: %d gateways online upstream after %v\n", c.Gateways, round(res.Started))
	for _, d := range c.Outages {
		if err := sleep(ctx, c.Steady); err != nil {
			return res, err
		}
		o, err := f.outage(ctx, d)
		if err != nil {
			return res, err
		}
		fmt.Fprintf(c.Progress, "fleet: %s\n", o.Summary())
		res.Outages = append(res.Outages, o)
	}
	f.finish(ctx, &res)
	return res, f.err()
}

// Summary is a one-line description of o.
func (o FleetOutage) Summary() string {
	s := fmt.Sprintf("outage %v: connects %s; all online after %v, drained after %v (backlog %d); upstream CPU peak %.0f%%, RSS peak %.1f MiB",
		round(o.Outage), o.Connects.Summary(), round(o.Online), round(o.Drained), o.Backlog,
		o.UpstreamCPUPeak, float64(o.UpstreamRSSPeak)/(1<<20))
	if !o.Recovered {
		s += " (NOT RECOVERED)"
	}
	return s
}

//

// fleet is the running scenario: the upstream, the gate in front of it,
// the gateways and the subscribers that feed the ledger.
type fleet struct {
	c       FleetConfig
	ledger  *ledger
	accepts acceptLog
	port    int // the upstream's port, the same across restarts
	up      *broker
	stopUp  func() // stops the upstream's subscriber
	gate    *gate
	stopG   func()
	gws     []*broker
	ids     []string
	t0      time.Time

	subs   errgroup.Group // the gateways' local subscribers
	cancel context.CancelFunc
}

// start starts the upstream, its subscriber, the gate and the gateways
// with their local subscribers.
func (f *fleet) start(ctx context.Context) error {
	if err := f.startUpstream(ctx); err != nil {
		return err
	}
	g, err := newGate(f.up.Addr)
	if err != nil {
		return fmt.Errorf("mqttbench: fleet: %w", err)
	}
	f.gate, g.onAccept = g, f.accepts.Note
	g.Open()
	f.stopG = g.start(ctx)
	var subCtx context.Context
	subCtx, f.cancel = context.WithCancel(ctx)
	f.t0 = time.Now()
	return f.startGateways(ctx, subCtx)
}

// startUpstream starts Mosquitto (on f.port once it is known) and
// subscribes the ledger to the fleet's topics there.
func (f *fleet) startUpstream(ctx context.Context) error {
	up, err := startMosquittoAt(ctx, f.port, f.c.Mosquitto, "", func(_ string, port int) string { return mosquittoConf(port) })
	if err != nil {
		return err
	}
	f.up = up
	_, p, _ := net.SplitHostPort(up.Addr)
	f.port, _ = strconv.Atoi(p)
	f.stopUp, err = subscribeLedger(ctx, up.Addr, "mqttbench-fleet-upstream",
		[]string{fleetTopicRoot + "+/sensors/#", fleetTopicRoot + "+/status"}, f.ledger.Upstream)
	return err
}

// startGateways starts the gateways, c.Parallel at a time, each with a
// local subscriber (running until subCtx ends) that feeds the ledger.
func (f *fleet) startGateways(ctx, subCtx context.Context) error {
	f.gws = make([]*broker, f.c.Gateways)
	f.ids = make([]string, f.c.Gateways)
	var g errgroup.Group
	g.SetLimit(max(1, f.c.Parallel))
	for i := range f.gws {
		f.ids[i] = fmt.Sprintf("fleet-%04d", i)
		g.Go(func() error { return f.startGateway(ctx, subCtx, i) })
	}
	err := g.Wait()
	fmt.Fprintf(f.c.Progress, "fleet: %d gateways started in %v\n", f.c.Gateways, round(time.Since(f.t0)))
	return err
}

// startGateway starts gateway i and its local subscriber.
func (f *fleet) startGateway(ctx, subCtx context.Context, i int) error {
	id := f.ids[i]
	gw, err := startGateway(ctx, f.c.Gateway, gatewayOptions{ID: id, NoVersion: true,
		Bridge: f.c.bridgeConf(id, f.gate.Addr()), Sensors: f.c.sensorsConf()})
	if err != nil {
		return err
	}
	f.gws[i] = gw
	cn, err := dial(ctx, gw.Addr, "mqttbench-fleet-local", 0)
	if err == nil {
		err = cn.subscribe(ctx, "sensors/#", 1)
	}
	if err != nil {
		if cn != nil {
			cn.close()
		}
		return fmt.Errorf("mqttbench: fleet: %s: %w", id, err)
	}
	f.subs.Go(func() error {
		err := cn.run(subCtx, func(p packet.Packet) error {
			m, ok := p.(*packet.Publish)
			if !ok {
				return nil
			}
			f.ledger.Local(id, m.Topic, m.Payload)
			return cn.write(&packet.Puback{PacketID: m.PacketID})
		})
		if err != nil {
			return fmt.Errorf("mqttbench: fleet: %s: local subscriber: %w\nthe end of its output:\n%s", id, err, gw.Log())
		}
		return nil
	})
	return nil
}

// outage stops the upstream for d, restarts it on the same port, and
// measures the fleet's recovery.
func (f *fleet) outage(ctx context.Context, d time.Duration) (FleetOutage, error) {
	f.gate.Shut()
	down := time.Now()
	// The upstream's subscriber goes with the upstream, not before it: a
	// reading the upstream acknowledged with nobody subscribed would be
	// counted as lost.
	f.up.Stop()
	f.stopUp()
	fmt.Fprintf(f.c.Progress, "fleet: upstream stopped for %v\n", d)
	if err := sleep(ctx, d-time.Since(down)); err != nil {
		return FleetOutage{}, err
	}
	if err := f.startUpstream(ctx); err != nil {
		return FleetOutage{}, fmt.Errorf("mqttbench: fleet: restart the upstream: %w", err)
	}
	sctx, stopSampling := context.WithCancel(ctx)
	usage := make(chan procUsage, 1)
	go func() { usage <- sampleProc(sctx, f.up.PID()) }()
	back := time.Now()
	f.gate.Open()
	rec, ok, err := f.awaitRecovery(ctx, back, down, f.c.RecoverTimeout)
	end := time.Now()
	_ = sleep(ctx, time.Until(back.Add(minSampling))) // a quick recovery still gets a CPU figure
	stopSampling()
	u := <-usage
	o := FleetOutage{Outage: back.Sub(down), Attempts: newStorm(f.accepts.Between(false, down, back)),
		Connects: newStorm(f.accepts.Between(true, back, end)), Online: rec.Online, Drained: rec.Drained,
		Backlog: rec.Backlog, UpstreamCPUPeak: u.CPUPeak, UpstreamCPU: u.CPUTime, UpstreamRSSPeak: u.RSSPeak, Recovered: ok}
	return o, err
}

// minSampling is the shortest time the upstream's CPU and RSS are sampled
// after its return.
const minSampling = 2 * time.Second

// awaitRecovery polls the ledger until the fleet has recovered from an
// outage that started at down and ended at back, or timeout passes (ok
// false, no error).
func (f *fleet) awaitRecovery(ctx context.Context, back, down time.Time, timeout time.Duration) (r recovery, ok bool, err error) {
	deadline := time.Now().Add(timeout)
	for {
		if r, ok = f.ledger.Recovery(f.ids, back, down); ok || time.Now().After(deadline) {
			return r, ok, f.err()
		}
		if err := sleep(ctx, stormBucket); err != nil {
			return r, false, err
		}
	}
}

// finish waits for the readings in flight, tallies them and reads the
// gateways' RSS.
func (f *fleet) finish(ctx context.Context, res *FleetResult) {
	cut := time.Now().Add(-3 * f.c.SensorInterval)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res.Readings, res.Lost, res.Duplicates = f.ledger.Tally(cut)
		if res.Lost == 0 || time.Now().After(deadline) || sleep(ctx, stormBucket) != nil {
			break
		}
	}
	var rss []int64
	var cpu time.Duration
	for _, gw := range f.gws {
		if t, err := procCPUTime(gw.PID()); err == nil {
			cpu += t
		}
		if r, err := readRSS(gw.PID()); err == nil {
			rss = append(rss, r)
		}
		if h, err := readStatusKB(gw.PID(), "VmHWM"); err == nil {
			res.GatewayHWMMax = max(res.GatewayHWMMax, h)
		}
	}
	res.GatewayCPU = 100 * cpu.Seconds() / time.Since(f.t0).Seconds() / float64(len(f.gws))
	if len(rss) > 0 {
		slices.Sort(rss)
		res.GatewayRSSMedian, res.GatewayRSSMax = rss[len(rss)/2], rss[len(rss)-1]
	}
}

// err returns the first gateway that exited, with the end of its output.
func (f *fleet) err() error {
	for _, gw := range f.gws {
		if gw != nil && exited(gw) {
			return fmt.Errorf("mqttbench: fleet: a gateway exited; the end of its output:\n%s", gw.Log())
		}
	}
	return nil
}

// stop stops everything start started, the gateways in parallel.
func (f *fleet) stop() {
	if f.cancel != nil {
		f.cancel()
	}
	_ = f.subs.Wait()
	var wg sync.WaitGroup
	for _, gw := range f.gws {
		if gw != nil {
			wg.Go(gw.Stop)
		}
	}
	wg.Wait()
	if f.stopG != nil {
		f.stopG()
	}
	if f.stopUp != nil {
		f.stopUp()
	}
	if f.up != nil {
		f.up.Stop()
	}
}

// bridgeKeys is the reconnect and drain settings as YAML lines of the
// bridge section, none when all are the defaults.
func (c FleetConfig) bridgeKeys() []string {
	var keys, r []string
	if c.MinDelay > 0 {
		r = append(r, "min_delay: "+c.MinDelay.String())
	}
	if c.MaxDelay > 0 {
		r = append(r, "max_delay: "+c.MaxDelay.String())
	}
	if len(r) > 0 {
		keys = append(keys, "reconnect: {"+strings.Join(r, ", ")+"}")
	}
	if c.DrainRate > 0 {
		keys = append(keys, "drain_rate: "+strconv.FormatFloat(c.DrainRate, 'g', -1, 64))
	}
	return keys
}

// bridgeConf is gateway id's bridge: its readings out at QoS 1 under
// gateways/<id>/, a persistent session, the monitor's status and metrics
// at their defaults, and the configured reconnect and drain keys.
func (c FleetConfig) bridgeConf(id, upstream string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "bridge:\n  addresses: [\"tcp://%s\"]\n  client_id: %s\n", upstream, id)
	for _, k := range c.bridgeKeys() {
		fmt.Fprintf(&b, "  %s\n", k)
	}
	fmt.Fprintf(&b, "  topics:\n    - {pattern: \"sensors/#\", direction: out, qos: 1, remote_prefix: \"%s%s/\"}\n",
		fleetTopicRoot, id)
	return b.String()
}

// sensorsConf is each gateway's one sim sensor.
func (c FleetConfig) sensorsConf() string {
	return fmt.Sprintf("sensors:\n  - {name: s0, driver: sim, interval: %v, qos: 1, quantities: [temperature]}\n",
		c.SensorInterval)
}

// conditions describes the machine: CPUs, memory, load average.
func conditions() string {
	s := fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			s += fmt.Sprintf(", %.1f GiB RAM", kb/(1<<20))
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			s += ", load average " + strings.Join(f[:3], " ")
		}
	}
	return s
}
