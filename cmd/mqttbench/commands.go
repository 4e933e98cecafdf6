package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Default paths of the brokers' executables; `make bench` runs from the
// repository root.
const (
	defaultGateway   = "bin/gateway"
	defaultMosquitto = "/usr/sbin/mosquitto"
)

// The default end-to-end backlog bound and its flag's description.
const (
	defaultBacklog = 10000
	backlogUsage   = "most messages published but not yet delivered to a subscriber (0 = unbounded)"
)

// cmdCompare implements `mqttbench compare`.
func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", stderr)
	c := CompareConfig{}
	fs.IntVar(&c.Runs, "runs", 3, "runs of every scenario per broker; the table shows the median")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "publishing time of each throughput scenario")
	fs.DurationVar(&c.LatencyDuration, "latency-duration", 5*time.Second, "publishing time of the latency scenario")
	fs.Float64Var(&c.LatencyRate, "latency-rate", 2000, "publish rate of the latency scenario, msg/s")
	fs.IntVar(&c.Conns, "conns", 2000, "idle connections")
	fs.IntVar(&c.Window, "window", 64, "publishers' inflight window at QoS 1 and 2")
	fs.IntVar(&c.Backlog, "backlog", defaultBacklog, backlogUsage)
	fs.IntVar(&c.PayloadSize, "payload", 64, "payload size in bytes (at least 24)")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", 30*time.Second, "longest wait for a scenario's last messages")
	fs.DurationVar(&c.Settle, "settle", time.Second, "pause before each RSS reading")
	fs.StringVar(&c.Gateway, "gateway", defaultGateway, "edgegw `binary`")
	fs.StringVar(&c.Mosquitto, "mosquitto", defaultMosquitto, "Mosquitto `binary`")
	fs.BoolVar(&c.V5, "v5", true, "add the MQTT 5.0 rows (fan-in QoS 1/2, fan-out QoS 1, latency with MQTT 5.0 clients)")
	fs.BoolVar(&c.Durable, "durable", false, "add the durable scenario (gateway with a dead upstream, every message fsync'd)")
	fs.BoolVar(&c.Drain, "drain", false, "add the drain scenario (100,000 message backlog into Mosquitto)")
	fs.IntVar(&c.DrainMessages, "drain-messages", 100000, "backlog of the drain scenario")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	strict := fs.Bool("strict", false, "exit 1 when a target is missed")
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if c.Runs < 1 || c.Runs > 100 {
		return fmt.Errorf("mqttbench: compare: -runs %d: want 1 to 100", c.Runs)
	}
	if !*quiet {
		c.Progress = stderr
	}
	cmp, err := compare(ctx, c)
	if err != nil {
		return fmt.Errorf("mqttbench: compare: %w", err)
	}
	rep := cmp.report()
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteTable(stdout)
	}
	if err != nil {
		return err
	}
	switch {
	case rep.EdgegwError != "":
		return errors.New("mqttbench: compare: edgegw could not be run (see above)")
	case len(rep.Errors) > 0:
		return fmt.Errorf("mqttbench: compare: %d measurements failed (see above)", len(rep.Errors))
	case *strict && rep.Unmet() > 0:
		return fmt.Errorf("mqttbench: compare: %d targets missed", rep.Unmet())
	}
	return nil
}

// cmdFlow implements fanin, fanout and latency.
func cmdFlow(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet(name, stderr)
	bf := addBrokerFlags(fs, false)
	c := FlowConfig{Publishers: 8, Subscribers: 1, QoS: 1, Duration: 5 * time.Second}
	switch name {
	case "fanout":
		c.Publishers, c.Subscribers = 1, 16
	case "latency":
		c.Publishers, c.Rate, c.RecordLatency = 1, 2000, true
	}
	qos := fs.Uint("qos", uint(c.QoS), "QoS of publishing and subscriptions: 0, 1 or 2")
	v5 := fs.Bool("v5", false, "clients speak MQTT 5.0 instead of 3.1.1")
	fs.IntVar(&c.Publishers, "publishers", c.Publishers, "publishing clients")
	fs.IntVar(&c.Subscribers, "subscribers", c.Subscribers, "subscribing clients (each gets every message)")
	fs.IntVar(&c.PayloadSize, "payload", 64, "payload size in bytes (at least 24)")
	fs.IntVar(&c.Window, "window", 64, "each publisher's inflight window at QoS 1 and 2")
	fs.IntVar(&c.Backlog, "backlog", defaultBacklog, backlogUsage)
	fs.DurationVar(&c.Duration, "duration", c.Duration, "how long the publishers send")
	fs.Float64Var(&c.Rate, "rate", c.Rate, "total publish rate in msg/s; 0 = as fast as possible")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", 30*time.Second, "longest wait for the last acknowledgements and deliveries")
	fs.DurationVar(&c.Quiet, "quiet", 5*time.Second, "stop waiting for deliveries after this long without one")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *qos > 2 {
		return fmt.Errorf("mqttbench: %s: -qos %d: want 0, 1 or 2", name, *qos)
	}
	c.QoS = byte(*qos)
	if *v5 {
		c.Version = packet.V5
	}
	if c.QoS == 0 && !flagSet(fs, "quiet") {
		c.Quiet = time.Second
	}
	addr, _, stop, err := bf.resolve(ctx)
	if err != nil {
		return err
	}
	defer stop()
	c.Addr = addr
	res, err := runFlow(ctx, c)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	_, err = fmt.Fprintf(stdout, "%s %d→%d QoS %d%s: %s\n", name, c.Publishers, c.Subscribers, c.QoS, v5Label(*v5), res.Summary())
	return err
}

// cmdIdle implements `mqttbench idle`.
func cmdIdle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("idle", stderr)
	bf := addBrokerFlags(fs, true)
	c := IdleConfig{}
	fs.IntVar(&c.Conns, "conns", 2000, "connections to open")
	fs.IntVar(&c.Parallel, "parallel", 64, "handshakes in progress at once")
	keepAlive := fs.Uint("keepalive", 60, "keepalive in CONNECT, seconds")
	fs.DurationVar(&c.Settle, "settle", time.Second, "pause before each RSS reading")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *keepAlive > 65535 {
		return fmt.Errorf("mqttbench: idle: -keepalive %d: want 0 to 65535", *keepAlive)
	}
	c.KeepAlive = uint16(*keepAlive)
	addr, pid, stop, err := bf.resolve(ctx)
	if err != nil {
		return err
	}
	defer stop()
	c.Addr, c.PID = addr, pid
	res, err := runIdle(ctx, c)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "idle: %d connections in %v: %.0f conn/s\n", res.Conns, round(res.ConnectTime), res.ConnectRate)
	if c.PID > 0 {
		fmt.Fprintf(stdout, "idle: broker RSS %.1f → %.1f MiB: %.2f KiB per connection\n",
			float64(res.RSSBefore)/(1<<20), float64(res.RSSAfter)/(1<<20), res.RSSPerConn/1024)
	} else {
		fmt.Fprintln(stdout, "idle: no -pid, so the broker's RSS was not measured")
	}
	return nil
}

// cmdIdleRSS implements `mqttbench idlerss`.
func cmdIdleRSS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("idlerss", stderr)
	bf := addBrokerFlags(fs, true)
	settle := fs.Duration("settle", time.Second, "pause before the RSS reading")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, pid, stop, err := bf.resolve(ctx)
	if err != nil {
		return err
	}
	defer stop()
	if pid <= 0 {
		return errors.New("mqttbench: idlerss: give -pid or -start")
	}
	rss, err := IdleRSS(ctx, pid, *settle)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, map[string]int64{"pid": int64(pid), "rss": rss})
	}
	_, err = fmt.Fprintf(stdout, "idlerss: pid %d: %.2f MiB\n", pid, float64(rss)/(1<<20))
	return err
}

// cmdDurable implements `mqttbench durable`.
func cmdDurable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("durable", stderr)
	gateway := fs.String("gateway", defaultGateway, "edgegw `binary`")
	c := FlowConfig{Publishers: 8, Subscribers: 1, QoS: 1, PayloadSize: 64, Quiet: 5 * time.Second}
	fs.IntVar(&c.Window, "window", 64, "each publisher's inflight window")
	fs.IntVar(&c.Backlog, "backlog", defaultBacklog, backlogUsage)
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "how long the publishers send")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", 30*time.Second, "longest wait for the last acknowledgements and deliveries")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	res, err := runDurable(ctx, *gateway, c)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	_, err = fmt.Fprintf(stdout, "durable 8→1 QoS 1: %s\n", res.Summary())
	return err
}

// cmdDrain implements `mqttbench drain`.
func cmdDrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("drain", stderr)
	c := DrainConfig{PayloadSize: 64}
	fs.StringVar(&c.Gateway, "gateway", defaultGateway, "edgegw `binary`")
	fs.StringVar(&c.Mosquitto, "mosquitto", defaultMosquitto, "Mosquitto `binary` (the upstream)")
	fs.StringVar(&c.Upstream, "upstream", nameMosquitto, "upstream `broker`: mosquitto, or edgegw (a second gateway) to see the drain's own ceiling")
	fs.IntVar(&c.Messages, "messages", 100000, "backlog to build and drain")
	fs.IntVar(&c.Window, "window", 64, "inflight window of the publisher that builds the backlog")
	fs.DurationVar(&c.Timeout, "timeout", 2*time.Minute, "longest time to build the backlog, and to drain it")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	res, err := runDrain(ctx, c)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	_, err = fmt.Fprintf(stdout, "drain: %s\n", res.Summary())
	return err
}

//

// brokerFlags select the broker of a single scenario: an address (and pid),
// or a broker to start.
type brokerFlags struct {
	addr, start, gateway, mosquitto string
	pid                             int
}

// addBrokerFlags defines -addr, -start, -gateway, -mosquitto and, with
// withPID, -pid.
func addBrokerFlags(fs *flag.FlagSet, withPID bool) *brokerFlags {
	bf := &brokerFlags{}
	fs.StringVar(&bf.addr, "addr", "", "broker `host:port`")
	fs.StringVar(&bf.start, "start", "", "start this broker on a free loopback port instead: mosquitto or edgegw")
	fs.StringVar(&bf.gateway, "gateway", defaultGateway, "edgegw `binary`, for -start edgegw")
	fs.StringVar(&bf.mosquitto, "mosquitto", defaultMosquitto, "Mosquitto `binary`, for -start mosquitto")
	if withPID {
		fs.IntVar(&bf.pid, "pid", 0, "the broker's process id, for its RSS (/proc/PID/status)")
	}
	return bf
}

// resolve returns the broker's address and pid, starting it when asked;
// stop stops a started broker.
func (bf *brokerFlags) resolve(ctx context.Context) (addr string, pid int, stop func(), err error) {
	var b *broker
	switch {
	case bf.start != "" && (bf.addr != "" || bf.pid != 0):
		return "", 0, nil, errors.New("mqttbench: give -start or -addr/-pid, not both")
	case bf.start == nameMosquitto:
		b, err = startMosquitto(ctx, bf.mosquitto)
	case bf.start == nameEdgegw:
		b, err = startGateway(ctx, bf.gateway, gatewayOptions{})
	case bf.start != "":
		return "", 0, nil, fmt.Errorf("mqttbench: -start %q: want mosquitto or edgegw", bf.start)
	default:
		return bf.addr, bf.pid, func() {}, nil
	}
	if err != nil {
		return "", 0, nil, err
	}
	return b.Addr, b.PID(), b.Stop, nil
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mqttbench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args and refuses positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// v5Label marks a single scenario's line when its clients speak MQTT 5.0.
func v5Label(v5 bool) string {
	if v5 {
		return " (MQTT 5.0)"
	}
	return ""
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
