package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Broker names, as the table and the JSON output spell them.
const (
	nameEdgegw    = "edgegw"
	nameMosquitto = "mosquitto"
)

// Broker start-up bounds.
const (
	startTimeout = 15 * time.Second
	stopTimeout  = 10 * time.Second
	startTries   = 3 // a port taken between picking and binding: retry
	logTail      = 64 << 10
)

// ErrNoBinary means a broker's executable does not exist.
var ErrNoBinary = errors.New("mqttbench: broker binary not found")

// broker is a broker process started by the tool, listening on Addr until
// Stop.
type broker struct {
	// Name is nameEdgegw or nameMosquitto.
	Name string
	// Addr is the listener's "127.0.0.1:port".
	Addr string
	// Version is the first line of the binary's version output.
	Version string

	cmd    *exec.Cmd
	pid    int    // the broker's pid when cmd is strace running it; 0: cmd's own
	trace  string // strace's output file, or "" when not traced
	dir    string // temporary directory: configuration, data; removed by Stop
	conf   string // the generated configuration file
	log    *tail
	exited chan struct{} // closed when the process has been waited for
	once   sync.Once     // for terminate
	rmOnce sync.Once     // for Stop's removal of dir
}

// PID is the broker's process id (not strace's, when traced).
func (b *broker) PID() int {
	if b.pid != 0 {
		return b.pid
	}
	return b.cmd.Process.Pid
}

// Log returns the end of the broker's output.
func (b *broker) Log() string { return b.log.String() }

// Stop terminates the broker (SIGTERM, then SIGKILL after stopTimeout),
// waits for it and removes its directory. It is safe to call twice.
func (b *broker) Stop() {
	b.terminate()
	b.rmOnce.Do(func() { _ = os.RemoveAll(b.dir) })
}

// terminate stops the process but keeps its directory.
func (b *broker) terminate() {
	b.once.Do(func() {
		// A traced broker gets the signal itself; strace exits with it.
		_ = syscall.Kill(b.PID(), syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(stopTimeout):
			_ = syscall.Kill(b.PID(), syscall.SIGKILL)
			_ = b.cmd.Process.Kill()
			<-b.exited
		}
	})
}

// startMosquitto runs the Mosquitto binary bin on a free loopback port with
// a generated configuration: anonymous access, no persistence, and queue and
// inflight limits lifted so that it neither drops nor stalls QoS 1/2
// messages under load.
//
// Both limits are 0 (none) rather than large numbers, because of Mosquitto
// 2.0.11 (Debian's), whose inflight and queue accounting 2.0.13 fixed in
// several places:
//   - with max_queued_messages 100000 it drops QoS 1 messages ("Outgoing
//     messages are being dropped") after some 150,000 messages to one
//     subscriber even when fewer than 200 are queued;
//   - with max_inflight_messages 100 (or 20) a QoS 1/2 fan-in now and then
//     stalls for seconds with every socket drained, or for good.
//
// The tool bounds the backlog itself (-backlog), so inflight and queue stay
// small anyway; without the limits Mosquitto is also at its fastest.
func startMosquitto(ctx context.Context, bin string) (*broker, error) {
	return startMosquittoWith(ctx, bin, "", func(_ string, port int) string { return mosquittoConf(port) })
}

// startMosquittoWith runs Mosquitto with the configuration conf returns for
// its directory and port, under strace when strace is a path.
func startMosquittoWith(ctx context.Context, bin, strace string, conf func(dir string, port int) string) (*broker, error) {
	return startMosquittoAt(ctx, 0, bin, strace, conf)
}

// startMosquittoAt is startMosquittoWith on loopback port port (0: a free
// one); the fleet scenario restarts its upstream on the same port.
func startMosquittoAt(ctx context.Context, port int, bin, strace string, conf func(dir string, port int) string) (*broker, error) {
	return startBrokerAt(ctx, port, nameMosquitto, bin, strace, []string{"-h"}, func(dir string, port int) ([]string, error) {
		path := filepath.Join(dir, "mosquitto.conf")
		return []string{"-c", path}, os.WriteFile(path, []byte(conf(dir, port)), 0o600)
	})
}

// gatewayOptions shape the gateway's generated configuration.
type gatewayOptions struct {
	// Bridge is a YAML "bridge:" section, or "" for none.
	Bridge string
	// Sensors is a YAML "sensors:" section, or "" for none.
	Sensors string
	// Strace, when set, is the strace binary to run the gateway under,
	// logging its sync calls (see straceArgs).
	Strace string
	// ID is gateway.id; "" = "mqttbench".
	ID string
	// NoVersion skips running `gateway version` (Broker.Version stays
	// empty): the fleet scenario starts hundreds of gateways.
	NoVersion bool
}

// startGateway runs `bin run -config <generated>` on a free loopback port:
// one plain listener, data_dir in a temporary directory, limits raised as
// for Mosquitto, and o's bridge and sensors sections (none by default).
func startGateway(ctx context.Context, bin string, o gatewayOptions) (*broker, error) {
	versionArgs := []string{"version"}
	if o.NoVersion {
		versionArgs = nil
	}
	return startBroker(ctx, nameEdgegw, bin, o.Strace, versionArgs, func(dir string, port int) ([]string, error) {
		conf := filepath.Join(dir, "gateway.yaml")
		y := gatewayConf(cmp.Or(o.ID, "mqttbench"), port, filepath.Join(dir, "data"), o.Bridge+o.Sensors)
		return []string{"run", "-config", conf}, os.WriteFile(conf, []byte(y), 0o600)
	})
}

// mosquittoConf is the configuration of a benchmarked Mosquitto.
func mosquittoConf(port int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listener %d 127.0.0.1\n", port)
	b.WriteString(`allow_anonymous true
persistence false
max_inflight_messages 0
max_queued_messages 0
max_queued_bytes 0
max_connections -1
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
connection_messages false
`)
	if os.Geteuid() == 0 {
		// Stay root: the "mosquitto" user could not read our temporary
		// directory.
		b.WriteString("user root\n")
	}
	return b.String()
}

// gatewayConf is the configuration of a benchmarked edgegw (DESIGN.md §3)
// with gateway.id id, ending with sections (YAML: the bridge, the sensors;
// "" for none).
func gatewayConf(id string, port int, dataDir, sections string) string {
	return fmt.Sprintf(`# generated by mqttbench
gateway:
  id: %s
  data_dir: %q
log: {level: warn, format: text}
broker:
  listeners:
    - address: "127.0.0.1:%d"
  allow_anonymous: true
  limits: {max_connections: 5000, max_inflight: 100, max_queued_messages: 100000}
%s`, id, dataDir, port, sections)
}

//

// startBroker starts bin with the arguments args returns (it also writes the
// configuration into dir for port; the last argument is its path) and waits until an MQTT handshake
// succeeds; under strace when strace is a path. A broker that exits early
// (e.g. its port was taken) is retried on another port. versionArgs nil
// leaves Version empty.
func startBroker(ctx context.Context, name, bin, strace string, versionArgs []string,
	args func(dir string, port int) ([]string, error)) (*broker, error) {
	return startBrokerAt(ctx, 0, name, bin, strace, versionArgs, args)
}

// startBrokerAt is startBroker on loopback port port (0: a free one, picked
// again on each try).
func startBrokerAt(ctx context.Context, port int, name, bin, strace string, versionArgs []string,
	args func(dir string, port int) ([]string, error)) (*broker, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrNoBinary, name, bin)
	}
	// The broker runs in its temporary directory: a relative path would
	// be resolved from there.
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, fmt.Errorf("mqttbench: %s: %w", name, err)
	}
	var errs []error
	for range startTries {
		b, err := startOnce(ctx, port, name, bin, strace, args)
		if err == nil {
			if versionArgs != nil {
				b.Version = version(bin, versionArgs)
			}
			return b, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("mqttbench: %s did not start: %w", name, errors.Join(errs...))
}

// startOnce is one attempt of startBrokerAt.
func startOnce(ctx context.Context, port int, name, bin, strace string, args func(dir string, port int) ([]string, error)) (*broker, error) {
	var err error
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "mqttbench-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("mqttbench: %w", err)
	}
	argv, err := args(dir, port)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mqttbench: write %s configuration: %w", name, err)
	}
	b := &broker{Name: name, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir,
		conf: argv[len(argv)-1], log: &tail{max: logTail}, exited: make(chan struct{})}
	b.cmd = exec.Command(bin, argv...)
	if strace != "" {
		b.trace = filepath.Join(dir, "strace.out")
		b.cmd = exec.Command(strace, straceArgs(b.trace, bin, argv)...)
	}
	b.cmd.Dir = dir
	b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
	// A traced broker orphaned by a dead strace still holds the output
	// pipe: Wait must not wait for it forever.
	b.cmd.WaitDelay = stopTimeout
	// The broker dies with the tool, even if the tool is killed.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mqttbench: start %s: %w", bin, err)
	}
	go func() {
		_ = b.cmd.Wait()
		close(b.exited)
	}()
	if strace != "" {
		b.pid, err = childExec(b.cmd.Process.Pid, bin, startTimeout)
	}
	if err == nil {
		err = b.awaitReady(ctx)
	}
	if err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

// awaitReady polls the broker with MQTT handshakes until one succeeds, the
// process exits, or startTimeout passes.
func (b *broker) awaitReady(ctx context.Context) error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-b.exited:
			return fmt.Errorf("%s exited during start-up (%v); its output:\n%s", b.Name, b.cmd.ProcessState, b.Log())
		default:
		}
		hctx, cancel := context.WithTimeout(ctx, time.Second)
		nc, err := handshake(hctx, b.Addr, "mqttbench-probe", 0)
		cancel()
		if err == nil {
			closeIdle([]net.Conn{nc})
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not accept an MQTT connection on %s within %v: %w; its output:\n%s",
				b.Name, b.Addr, startTimeout, err, b.Log())
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// version runs bin with args and returns the first line it printed.
func version(bin string, args []string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("mqttbench: pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail keeps the last max bytes written to it; safe for concurrent use.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// Write implements io.Writer.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the kept output.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}
