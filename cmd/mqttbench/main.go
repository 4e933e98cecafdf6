// Command mqttbench is edgegw's MQTT 3.1.1 load tool. It measures a broker
// with a lean client of its own, built on mqttcore/packet, so that the tool
// is not the bottleneck, and `mqttbench compare` (what `make bench` runs)
// measures edgegw and Mosquitto side by side and prints one table of ratios
// against the project's targets.
//
// Usage:
//
//	mqttbench compare [flags]              both brokers, every scenario, -runs times; a table (or -json)
//	mqttbench fanin   -addr HOST:PORT      8 publishers → 1 subscriber on bench/# (-qos 0|1|2)
//	mqttbench fanout  -addr HOST:PORT      1 publisher → 16 subscribers
//	mqttbench latency -addr HOST:PORT      QoS 1 at a fixed rate; p50/p99/max publish → deliver
//	mqttbench idle    -addr HOST:PORT -pid N   2000 idle connections: connect rate, broker RSS per connection
//	mqttbench idlerss -pid N               the broker's RSS with no clients
//	mqttbench durable                      fan-in QoS 1 into a gateway whose upstream is down
//	mqttbench drain                        a gateway drains a 100,000 message backlog into Mosquitto
//	mqttbench wear                         bytes written and fsyncs of the real gateway under steady workloads
//	mqttbench fleet                        200 gateway processes; the upstream Mosquitto stops and restarts
//
// Instead of -addr (and -pid), the single scenarios accept -start mosquitto
// or -start edgegw to start that broker themselves on a free loopback port.
// Every scenario is bounded in time and count, and uses loopback only. Run
// `mqttbench <command> -h` for a command's flags; see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// Command-line outcomes that main turns into exit codes without printing
// anything more.
var (
	// errUsage marks a command-line mistake; the usage text was printed.
	errUsage = errors.New("mqttbench: usage")
	// errHelp means -h was given and the flags were printed.
	errHelp = errors.New("mqttbench: help")
)

// minNoFile is the open file limit the tool needs: 2000 idle connections,
// their counterparts in a broker it started, and some slack.
const minNoFile = 4200

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, errHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run dispatches the subcommand; it is main without the process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errUsage
	}
	// The tool allocates a little per received message; collecting less
	// often keeps it off the CPU the brokers need.
	debug.SetGCPercent(400)
	if err := raiseNoFile(minNoFile); err != nil {
		fmt.Fprintf(stderr, "mqttbench: warning: %v\n", err)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "compare":
		return cmdCompare(ctx, rest, stdout, stderr)
	case "fanin", "fanout", "latency":
		return cmdFlow(ctx, cmd, rest, stdout, stderr)
	case "idle":
		return cmdIdle(ctx, rest, stdout, stderr)
	case "idlerss":
		return cmdIdleRSS(ctx, rest, stdout, stderr)
	case "durable":
		return cmdDurable(ctx, rest, stdout, stderr)
	case "drain":
		return cmdDrain(ctx, rest, stdout, stderr)
	case "wear":
		return cmdWear(ctx, rest, stdout, stderr)
	case "fleet":
		return cmdFleet(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return nil
	}
	fmt.Fprintf(stderr, "mqttbench: unknown command %q\n", cmd)
	usage(stderr)
	return errUsage
}

// usage prints the command summary.
func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  mqttbench compare [-runs 3] [-duration 5s] [-json] [-durable] [-drain] ...
                                      edgegw vs Mosquitto, every scenario; one table of ratios
  mqttbench fanin   -addr HOST:PORT [-qos 1] [-duration 5s]   8 publishers → 1 subscriber
  mqttbench fanout  -addr HOST:PORT [-qos 1] [-duration 5s]   1 publisher → 16 subscribers
  mqttbench latency -addr HOST:PORT [-rate 2000] [-duration 5s]
                                      QoS 1 publish → deliver latency at a fixed rate
  mqttbench idle    -addr HOST:PORT [-pid N] [-conns 2000]  idle connections, RSS per connection
  mqttbench idlerss -pid N            the broker's RSS with no clients
  mqttbench durable [-gateway bin/gateway]   fan-in QoS 1 into a gateway with its upstream down
  mqttbench drain   [-gateway bin/gateway]   a 100,000 message backlog drains into Mosquitto
  mqttbench wear    [-workloads W1,...,W4] [-window 60s]
                                      flash wear: bytes written and fsyncs per message, MB/day
  mqttbench fleet   [-gateways 200] [-outages 60s,500ms] [-min-delay D] [-max-delay D]
                                      a fleet of gateway processes through upstream outages: the
                                      reconnect storm, recovery time, loss, upstream CPU and RSS
Single scenarios take -start mosquitto|edgegw instead of -addr/-pid to start the broker themselves.
Run "mqttbench COMMAND -h" for a command's flags.
`)
}
