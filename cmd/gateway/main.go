// Command gateway is the edgegw edge gateway: it reads sensors, runs a local
// MQTT 3.1.1 broker, buffers QoS 1/2 traffic durably while the uplink is down,
// and bridges to an upstream broker.
//
// Usage:
//
//	gateway run -config FILE      run the gateway
//	gateway check -config FILE    validate FILE: exit 0, or 1 with every error listed
//	gateway version               version, commit, Go version and platform
//	gateway queue stats -config FILE   depth and counters of the durable queue
//	gateway passwd                bcrypt hash of a password read from stdin or a prompt
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"os/signal"
	"syscall"
)

// errUsage marks a command-line mistake: the usage text was printed.
var errUsage = errors.New("usage")

// exitError carries an exit code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		cancel(fmt.Errorf("received %v", s))
		s = <-sigs // a second signal forces the exit
		fmt.Fprintf(os.Stderr, "gateway: received %v again, exiting now\n", s)
		os.Exit(2)
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// run dispatches the subcommand. It is main without the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errUsage
	}
	switch args[0] {
	case "run":
		path, err := configFlag("run", args[1:], stderr)
		if err != nil {
			return err
		}
		return cmdRun(ctx, path, stderr)
	case "check":
		path, err := configFlag("check", args[1:], stderr)
		if err != nil {
			return err
		}
		return cmdCheck(path, stdout, stderr)
	case "queue":
		if len(args) < 2 || args[1] != "stats" {
			usage(stderr)
			return errUsage
		}
		path, err := configFlag("queue stats", args[2:], stderr)
		if err != nil {
			return err
		}
		return cmdQueueStats(path, stdout, stderr)
	case "passwd":
		return cmdPasswd(args[1:], os.Stdin, stdout, stderr)
	case "version", "-version", "--version":
		printVersion(stdout)
		return nil
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return nil
	}
	fmt.Fprintf(stderr, "gateway: unknown command %q\n", args[0])
	usage(stderr)
	return errUsage
}

// defaultConfig is the configuration file used without -config (where
// systemd/install.sh puts it).
const defaultConfig = "/etc/gateway/gateway.yaml"

// configFlag parses the -config flag every config-reading subcommand takes.
// Without the flag, a missing default file is an error that says how to
// pass another.
func configFlag(name string, args []string, stderr io.Writer) (string, error) {
	fs := flag.NewFlagSet("gateway "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", defaultConfig, "configuration `FILE`")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: gateway %s [-config FILE]\n\n", name)
		fmt.Fprintf(stderr, "  -config FILE   the configuration file (default %s)\n", defaultConfig)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", exitError{0}
		}
		return "", errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gateway %s: unexpected argument %q\n", name, fs.Arg(0))
		return "", errUsage
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	if !explicit {
		if _, err := os.Stat(*path); errors.Is(err, iofs.ErrNotExist) {
			fmt.Fprintf(stderr, "gateway %s: no configuration at %s (the default path); pass another with -config FILE\n", name, *path)
			return "", exitError{1}
		}
	}
	return *path, nil
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `usage:
  gateway run -config FILE           run the gateway
  gateway check -config FILE         validate FILE (exit 0), or list every error (exit 1)
  gateway queue stats -config FILE   depth and counters of the durable upstream queue
  gateway passwd                     a bcrypt hash for broker.users (password from stdin or a prompt)
  gateway version                    version, commit, Go version and platform

Without -config, FILE is %s.
`, defaultConfig)
}
