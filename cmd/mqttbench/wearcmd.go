package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"
)

// WearReport is the outcome of `mqttbench wear`, as printed with -json.
type WearReport struct {
	// Versions are the brokers' version lines.
	Versions map[string]string `json:"versions"`
	// FsyncsCounted says whether sync calls were counted (strace found).
	FsyncsCounted bool `json:"fsyncs_counted"`
	// Results has one entry per workload and broker, in table order.
	Results []WearResult `json:"results"`
	// Errors lists the measurements that failed.
	Errors []string `json:"errors,omitempty"`
}

// cmdWear implements `mqttbench wear`.
func cmdWear(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("wear", stderr)
	c := WearConfig{}
	fs.StringVar(&c.Gateway, "gateway", defaultGateway, "edgegw `binary`")
	fs.StringVar(&c.Mosquitto, "mosquitto", defaultMosquitto, "Mosquitto `binary` (upstream, and the gateway's role in W3/W4)")
	strace, _ := exec.LookPath("strace")
	fs.StringVar(&c.Strace, "strace", strace, "strace `binary` that counts fsyncs; empty: fsyncs are not counted")
	workloads := fs.String("workloads", strings.Join(workloadNames(), ","), "comma-separated workloads to run")
	fs.DurationVar(&c.SensorWindow, "window", 60*time.Second, "measurement window of W1 and W2")
	fs.DurationVar(&c.PublisherWindow, "publish-window", 20*time.Second, "publishing time (the window) of W3 and W4")
	fs.DurationVar(&c.Warmup, "warmup", 15*time.Second,
		"time between start and measurement: start-up writes (the store's first 10 s flush) are not steady-state wear")
	fs.IntVar(&c.Sensors, "sensors", 10, "sim sensors of W1 and W2 (one quantity each)")
	fs.DurationVar(&c.SensorInterval, "interval", time.Second, "the sensors' polling interval")
	fs.IntVar(&c.Publishers, "publishers", 8, "local QoS 1 publishers of W3 and W4")
	fs.Float64Var(&c.Rate, "rate", 1000, "total publish rate of W3 and W4, msg/s")
	fs.DurationVar(&c.Delay, "delay", 50*time.Millisecond, "delay each way of W1-slow's proxy")
	fs.BoolVar(&c.NoMosquitto, "no-mosquitto", false, "skip Mosquitto's side of W3 and W4")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	strict := fs.Bool("strict", false, "exit 1 when a target is missed")
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *workloads != "" {
		c.Workloads = strings.Split(*workloads, ",")
	}
	if err := c.check(); err != nil {
		return err
	}
	if !*quiet {
		c.Progress = stderr
		if c.Strace == "" {
			fmt.Fprintln(stderr, "mqttbench: wear: strace not found: fsyncs are not counted")
		}
	}
	res, errs := runWear(ctx, c)
	rep := &WearReport{Versions: map[string]string{nameEdgegw: version(c.Gateway, []string{"version"}),
		nameMosquitto: version(c.Mosquitto, []string{"-h"})}, FsyncsCounted: c.Strace != "", Results: res}
	for _, err := range errs {
		rep.Errors = append(rep.Errors, err.Error())
	}
	var err error
	if *asJSON {
		err = writeJSON(stdout, rep)
	} else {
		err = rep.WriteTable(stdout)
	}
	switch {
	case err != nil:
		return err
	case len(errs) > 0:
		return fmt.Errorf("mqttbench: wear: %d measurements failed (see above)", len(errs))
	case *strict && rep.Unmet() > 0:
		return fmt.Errorf("mqttbench: wear: %d targets missed", rep.Unmet())
	}
	return nil
}

// check validates c.
func (c WearConfig) check() error {
	var errs []error
	if c.SensorWindow <= 0 || c.PublisherWindow <= 0 || c.Warmup < 0 {
		errs = append(errs, errors.New("mqttbench: wear: -window and -publish-window must be positive, -warmup ≥ 0"))
	}
	if c.Sensors < 1 || c.Sensors > 1000 || c.SensorInterval < 10*time.Millisecond {
		errs = append(errs, errors.New("mqttbench: wear: want 1 to 1000 -sensors and an -interval ≥ 10ms"))
	}
	if c.Publishers < 1 || c.Rate <= 0 {
		errs = append(errs, errors.New("mqttbench: wear: want -publishers ≥ 1 and -rate > 0"))
	}
	return errors.Join(append(errs, checkWorkloads(c.Workloads))...)
}

// Unmet counts the results whose target was missed.
func (rep *WearReport) Unmet() int {
	n := 0
	for _, r := range rep.Results {
		if r.Met != nil && !*r.Met {
			n++
		}
	}
	return n
}

// WriteTable prints the report as an aligned table with notes.
func (rep *WearReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tload\tbroker\tmsgs\twindow\twritten\tB/msg\tMB/day\tfsyncs/s\tsyscw/s\ttarget\tmet?")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%v\t%s\t%.0f\t%.1f\t%s\t%.0f\t%s\t%s\n", r.Workload, r.Description, r.Broker,
			r.Messages, round(r.Window), bytesCell(r.IO.WriteBytes), r.BytesPerMsg, r.MBPerDay, r.fsyncsCell(), r.SyscwPerSec,
			dash(r.Target), metCell(r.Met))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nwritten = write_bytes of /proc/<pid>/io over the window (pages dirtied in files; the file system's")
	fmt.Fprintln(w, "journal is extra); MB/day = written / window × 86,400 s; B/msg = written / msgs.")
	if rep.FsyncsCounted {
		fmt.Fprintln(w, "fsyncs/s: fsync, fdatasync, sync_file_range, syncfs and msync calls, counted with strace --seccomp-bpf.")
	} else {
		fmt.Fprintln(w, "fsyncs/s: not counted (no strace).")
	}
	for _, r := range rep.Results {
		if r.SaveBytes >= 0 {
			fmt.Fprintf(w, "%s mosquitto: persistence true, autosave_interval %v: nothing is written between saves; one save\n",
				r.Workload, mosquittoAutosave)
			fmt.Fprintf(w, "  right after the window wrote %s (its whole in-memory state, every autosave_interval).\n",
				bytesCell(r.SaveBytes))
		}
	}
	writeVersions(w, rep.Versions)
	writeErrors(w, rep.Errors)
	return nil
}

//

// fsyncsCell formats r's sync calls per second, "—" when not counted.
func (r WearResult) fsyncsCell() string {
	if r.Fsyncs < 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", r.FsyncsPerSec)
}

// bytesCell formats a byte count in B, KB or MB (powers of 1000).
func bytesCell(n int64) string {
	switch {
	case n >= 10e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 10e3:
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
