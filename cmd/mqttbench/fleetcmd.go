package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// cmdFleet implements `mqttbench fleet`.
func cmdFleet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fleet", stderr)
	c := FleetConfig{}
	fs.StringVar(&c.Gateway, "gateway", defaultGateway, "edgegw `binary`")
	fs.StringVar(&c.Mosquitto, "mosquitto", defaultMosquitto, "Mosquitto `binary` (the upstream)")
	fs.IntVar(&c.Gateways, "gateways", 200, "gateway processes")
	outages := fs.String("outages", "60s,500ms", "comma-separated upstream outages, run one after the other")
	fs.DurationVar(&c.Steady, "steady", 10*time.Second, "steady time before each outage")
	fs.DurationVar(&c.SensorInterval, "interval", time.Second, "each gateway's sim sensor period (QoS 1)")
	fs.DurationVar(&c.MinDelay, "min-delay", 0, "bridge.reconnect.min_delay; 0: the gateway's default")
	fs.DurationVar(&c.MaxDelay, "max-delay", 0, "bridge.reconnect.max_delay; 0: the gateway's default")
	fs.Float64Var(&c.DrainRate, "drain-rate", 0, "bridge.drain_rate in msg/s; 0: the gateway's default")
	fs.DurationVar(&c.StartTimeout, "start-timeout", 5*time.Minute, "longest wait for the fleet to be online at the start")
	fs.DurationVar(&c.RecoverTimeout, "recover-timeout", 5*time.Minute, "longest wait for each recovery")
	fs.IntVar(&c.Parallel, "parallel", 8, "gateways started at a time")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	for o := range strings.SplitSeq(*outages, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(o))
		if err != nil || d <= 0 {
			return fmt.Errorf("mqttbench: fleet: -outages: %q is not a positive duration", o)
		}
		c.Outages = append(c.Outages, d)
	}
	if c.Gateways < 1 || c.SensorInterval <= 0 {
		return fmt.Errorf("mqttbench: fleet: want -gateways ≥ 1 and a positive -interval")
	}
	if !*quiet {
		c.Progress = stderr
	}
	res, err := runFleet(ctx, c)
	if err != nil {
		return err
	}
	if *asJSON {
		err = writeJSON(stdout, res)
	} else {
		err = res.WriteReport(stdout)
	}
	if err == nil && res.Lost > 0 {
		err = fmt.Errorf("mqttbench: fleet: %d readings lost", res.Lost)
	}
	return err
}

// WriteReport prints r for people.
func (r FleetResult) WriteReport(w io.Writer) error {
	bridge := r.Bridge
	if bridge == "" {
		bridge = "defaults"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "fleet: %d gateways, bridge %s; %s\n", r.Gateways, bridge, r.Conditions)
	fmt.Fprintf(&b, "  started, all online upstream: %v\n", round(r.Started))
	for _, o := range r.Outages {
		fmt.Fprintf(&b, "  outage %v (upstream stopped, restarted on the same port):\n", round(o.Outage))
		fmt.Fprintf(&b, "    attempts during the outage: %s\n", o.Attempts.Summary())
		fmt.Fprintf(&b, "    connects after the restart: %s\n", o.Connects.Summary())
		fmt.Fprintf(&b, "    connects per second:        %s\n", perSecond(o.Connects.PerSecond))
		fmt.Fprintf(&b, "    all online after %v; backlog of %d readings drained after %v\n",
			round(o.Online), o.Backlog, round(o.Drained))
		fmt.Fprintf(&b, "    upstream: CPU peak %.0f%% of a core (busiest second), %v CPU in the recovery, RSS peak %.1f MiB\n",
			o.UpstreamCPUPeak, round(o.UpstreamCPU), float64(o.UpstreamRSSPeak)/(1<<20))
		if !o.Recovered {
			b.WriteString("    NOT RECOVERED within -recover-timeout\n")
		}
	}
	fmt.Fprintf(&b, "  readings: %d published, %d lost, %d duplicates\n", r.Readings, r.Lost, r.Duplicates)
	fmt.Fprintf(&b, "  gateway RSS: median %.1f MiB, max %.1f MiB (peak VmHWM %.1f MiB); CPU %.2f%% of a core each on average\n",
		float64(r.GatewayRSSMedian)/(1<<20), float64(r.GatewayRSSMax)/(1<<20), float64(r.GatewayHWMMax)/(1<<20), r.GatewayCPU)
	_, err := io.WriteString(w, b.String())
	return err
}

// perSecond prints counts per second, compressed: at most 30 seconds,
// then the rest summed.
func perSecond(ns []int) string {
	const show = 30
	var parts []string
	for i, n := range ns {
		if i == show {
			rest := 0
			for _, m := range ns[show:] {
				rest += m
			}
			parts = append(parts, fmt.Sprintf("… +%d in %d s more", rest, len(ns)-show))
			break
		}
		parts = append(parts, fmt.Sprint(n))
	}
	return strings.Join(parts, " ")
}
