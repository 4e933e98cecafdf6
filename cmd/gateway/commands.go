package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/edgegw/edgegw/config"
	"github.com/edgegw/edgegw/mqttcore/broker"
	"github.com/edgegw/edgegw/offline"
)

// cmdRun is `gateway run`: load the config, build the gateway, run it until
// a signal; SIGHUP reloads the config.
func cmdRun(ctx context.Context, path string, stderr io.Writer) error {
	l, err := loadChecked(path, stderr)
	if err != nil {
		return err
	}
	level := new(slog.LevelVar)
	log := newLogger(l.cfg.Log, os.Stderr, level)
	g, err := newGateway(l, log, level)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	g.reload = func() { g.reloadConfig(path) }
	g.hup = hup
	if g.bridge != nil {
		g.remote = newRemoteServer(g, path)
	}
	return g.run(ctx)
}

// cmdCheck is `gateway check`: exit 0 with a one-line summary, or 1 with
// every error (config file errors with file:line, then each sensor driver's
// own option errors).
func cmdCheck(path string, stdout, stderr io.Writer) error {
	l, err := loadChecked(path, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, l.cfg.Summary())
	return nil
}

// loaded is a configuration file that passed every check, with the broker
// options built from it: certificates, password hashes and ACL rules are
// loaded once, by the check, and then used.
type loaded struct {
	cfg     *config.Config
	broker  broker.Options
	httpTLS *tls.Config // http.tls, nil without it
}

// loadChecked loads path, checks every sensor's driver options and builds
// the broker options; on any error it prints them all, one per line, and
// returns exit status 1.
func loadChecked(path string, stderr io.Writer) (*loaded, error) {
	cfg, err := config.LoadPartial(path)
	return checkLoaded(cfg, err, stderr)
}

// loadCheckedData is loadChecked for a document received remotely, checked
// as if it were the file named file.
func loadCheckedData(file string, data []byte, stderr io.Writer) (*loaded, error) {
	cfg, err := config.ParsePartial(file, data)
	return checkLoaded(cfg, err, stderr)
}

// checkLoaded completes loadChecked once the file is parsed (cfg, err).
func checkLoaded(cfg *config.Config, err error, stderr io.Writer) (*loaded, error) {
	if cfg != nil {
		err = errors.Join(err, checkSensors(cfg))
	}
	l := &loaded{cfg: cfg}
	if err == nil {
		var tlsErr error
		l.broker, err = brokerOptions(cfg)
		l.httpTLS, tlsErr = httpTLS(cfg)
		err = errors.Join(err, tlsErr)
	}
	if err != nil {
		printErrors(stderr, err)
		return nil, exitError{1}
	}
	return l, nil
}

// checkSensors runs each sensor's driver Check (unknown drivers, bad pins,
// addresses, missing options) and joins the errors. An unknown option is
// reported with the driver's name and the closest known key, common keys
// included ("intervall" → "interval").
func checkSensors(cfg *config.Config) error {
	reg := newRegistry()
	var errs []error
	for i := range cfg.Sensors {
		if err := reg.Check(sensorSpec(cfg, i)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// printErrors writes a joined error one line per error.
func printErrors(w io.Writer, err error) {
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		fmt.Fprintln(w, err)
	}
	walk(err)
}

// queueStatsWait is how long `gateway queue stats` waits for the store's
// lock, which a running gateway holds.
const queueStatsWait = time.Second

// cmdQueueStats is `gateway queue stats`: the upstream queue's depth, read
// from the store opened read-only (the gateway must not be running: the
// store is locked while it is). It never writes to the store, so any user
// who can read it may run it.
func cmdQueueStats(path string, stdout, stderr io.Writer) error {
	l, err := loadChecked(path, stderr)
	if err != nil {
		return err
	}
	file := filepath.Join(l.cfg.Gateway.DataDir, storeFile)
	st, err := offline.ReadQueueStats(file, "uplink", queueStatsWait)
	switch {
	case errors.Is(err, offline.ErrNoQueue):
		fmt.Fprintf(stdout, "queue uplink: none in %s (no bridge has run)\n", file)
		return nil
	case errors.Is(err, offline.ErrLocked):
		return fmt.Errorf("queue stats: is the gateway running? stop it, or read $SYS/gateway/queue/… instead: %w", err)
	case err != nil:
		return fmt.Errorf("queue stats: %w", err)
	}
	fmt.Fprintf(stdout, "queue %s: %d messages, %d bytes, oldest %s, %d quarantined\n",
		st.Name, st.Messages, st.Bytes, st.OldestAge.Round(time.Second), st.Quarantined)
	for _, reason := range slices.Sorted(maps.Keys(st.Dropped)) {
		fmt.Fprintf(stdout, "dropped %s: %d\n", reason, st.Dropped[reason])
	}
	if fi, err := os.Stat(file); err == nil {
		fmt.Fprintf(stdout, "store %s: %d bytes on disk\n", file, fi.Size())
	}
	return nil
}
