package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// Bounds of the process harness. They bound a broken test; no test asserts
// on them.
const (
	readyWait = 30 * time.Second // start → READY=1
	stopWait  = 20 * time.Second // SIGTERM → exit, before SIGKILL
	logTail   = 200              // log lines shown when a test fails
)

// Placeholders a test's config template may use; startGateway replaces them.
const (
	phAddr    = "@ADDR@"     // the MQTT listener, 127.0.0.1:<free port>
	phWSAddr  = "@WSADDR@"   // a second free port, for a WebSocket listener
	phHTTP    = "@HTTPADDR@" // a third free port, for http.address
	phDataDir = "@DATADIR@"  // data_dir inside the test's temp dir
	phDir     = "@DIR@"      // the test's temp dir (for fake sysfs trees, …)
)

// baseConfig is the head of most test configs: one MQTT listener and $SYS
// every second. Tests append their own sections.
const baseConfig = `gateway:
  id: e2e
  data_dir: @DATADIR@
log: {level: info}
broker:
  listeners:
    - address: @ADDR@
  sys_interval: 1s
`

// proc is one gateway child process (and its restarts) with its config file,
// data_dir, log and sd_notify socket.
type proc struct {
	t        testing.TB
	tmpl     string // config template, with placeholders
	Dir      string // temp dir: config file, data_dir
	DataDir  string
	CfgPath  string
	Addr     string // MQTT listener
	WSAddr   string // WebSocket listener, when the template uses @WSADDR@
	HTTPAddr string // the status page, when the template uses @HTTPADDR@
	ExtraEnv []string

	log    *mqtttest.SyncBuffer // stderr and stdout of every run, in order
	notify *notifySocket

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the current run's Wait returned
	exitErr error
	runs    int
}

// startGateway writes yaml (a template with the @…@ placeholders) into a
// temp dir, starts the binary on it with a fake NOTIFY_SOCKET, waits for
// READY=1 and stops it when the test ends (SIGTERM, then SIGKILL after
// stopWait). A listener port someone else grabbed first is retried.
func startGateway(t testing.TB, yaml string, env ...string) *proc {
	t.Helper()
	p := newProc(t, yaml, env...)
	p.Start()
	return p
}

// newProc prepares a gateway (config, ports, temp dir) without starting it,
// for tests that set up data_dir first.
func newProc(t testing.TB, yaml string, env ...string) *proc {
	t.Helper()
	dir := t.TempDir()
	p := &proc{
		t: t, tmpl: yaml, Dir: dir, DataDir: filepath.Join(dir, "data"),
		CfgPath: filepath.Join(dir, "gateway.yaml"), ExtraEnv: env, log: &mqtttest.SyncBuffer{},
	}
	p.pickPorts()
	t.Cleanup(func() {
		if p.running() {
			if err := p.Stop(); err != nil {
				t.Errorf("gateway did not stop cleanly at the end of the test: %v", err)
			}
		}
		if p.notify != nil {
			p.notify.close()
		}
		if t.Failed() {
			t.Logf("gateway log (last %d lines):\n%s", logTail, p.LogTail(logTail))
		}
	})
	return p
}

// pickPorts chooses free loopback ports and rewrites the config file.
func (p *proc) pickPorts() {
	p.t.Helper()
	p.Addr = mqtttest.FreeAddr(p.t)
	p.WSAddr = mqtttest.FreeAddr(p.t)
	p.HTTPAddr = mqtttest.FreeAddr(p.t)
	p.WriteConfig(p.tmpl)
}

// WriteConfig replaces the config file (for SIGHUP tests) with the template
// yaml, placeholders filled with this process's ports and paths.
func (p *proc) WriteConfig(yaml string) {
	p.t.Helper()
	r := strings.NewReplacer(phAddr, p.Addr, phWSAddr, p.WSAddr, phHTTP, p.HTTPAddr, phDataDir, p.DataDir, phDir, p.Dir)
	if err := os.WriteFile(p.CfgPath, []byte(r.Replace(yaml)), 0o600); err != nil {
		p.t.Fatalf("write config: %v", err)
	}
}

// Start starts the gateway and waits for READY=1. On the first run a listen
// error "address already in use" is retried with other ports; a restart
// keeps the ports (clients reconnect to them).
func (p *proc) Start() {
	p.t.Helper()
	for attempt := 0; ; attempt++ {
		err := p.startOnce()
		if err == nil {
			return
		}
		if p.runs == 1 && attempt < 4 && strings.Contains(p.log.String(), "address already in use") {
			p.t.Logf("gateway: port taken, retrying with other ports: %v", err)
			p.pickPorts()
			p.runs = 0
			continue
		}
		p.t.Fatalf("gateway did not become ready: %v\nlog:\n%s", err, p.LogTail(logTail))
	}
}

func (p *proc) startOnce() error {
	if p.running() {
		return errors.New("already running")
	}
	if p.notify != nil {
		p.notify.close()
	}
	ns, err := newNotifySocket()
	if err != nil {
		return err
	}
	p.notify = ns
	cmd := exec.Command(gatewayBin, "run", "-config", p.CfgPath)
	cmd.Dir = p.Dir
	cmd.Env = append(cleanEnv(), "NOTIFY_SOCKET="+ns.path)
	cmd.Env = append(cmd.Env, p.ExtraEnv...)
	p.runs++
	fmt.Fprintf(p.log, "=== test harness: start #%d\n", p.runs)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", gatewayBin, err)
	}
	exited := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.exited, p.exitErr = cmd, exited, nil
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(exited)
	}()
	deadline := time.Now().Add(readyWait)
	for !ns.has("READY=1") {
		select {
		case <-exited:
			return fmt.Errorf("gateway exited before READY=1: %v", p.ExitErr())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Kill()
			return fmt.Errorf("no READY=1 within %v", readyWait)
		}
	}
	return nil
}

// cleanEnv is the test's environment without the variables the harness
// sets, so that a test run under systemd does not leak its own.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Signal sends sig to the running gateway.
func (p *proc) Signal(sig os.Signal) {
	p.t.Helper()
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// WaitExit waits up to d for the current run to exit and returns its exit
// error (nil = status 0); ok is false when it is still running.
func (p *proc) WaitExit(d time.Duration) (err error, ok bool) {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	select {
	case <-exited:
		return p.ExitErr(), true
	case <-time.After(d):
		return nil, false
	}
}

// ExitErr is the last run's exit error (nil while running or on status 0).
func (p *proc) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

// Stop sends SIGTERM and waits for the exit, killing the process after
// stopWait. It returns an error unless the gateway exited with status 0 in
// time.
func (p *proc) Stop() error {
	if !p.running() {
		return nil
	}
	p.Signal(syscall.SIGTERM)
	if err, ok := p.WaitExit(stopWait); ok {
		return err
	}
	p.Kill()
	return fmt.Errorf("still running %v after SIGTERM; killed", stopWait)
}

// Kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (p *proc) Kill() {
	if !p.running() {
		return
	}
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	_ = cmd.Process.Kill()
	<-exited
	fmt.Fprintf(p.log, "=== test harness: killed (SIGKILL)\n")
}

// Restart stops the gateway gracefully (the test fails unless it exits 0)
// and starts it again on the same config, ports and data_dir.
func (p *proc) Restart() {
	p.t.Helper()
	if err := p.Stop(); err != nil {
		p.t.Fatalf("stop before restart: %v", err)
	}
	p.Start()
}

// Log returns everything the gateway wrote so far, every run.
func (p *proc) Log() string { return p.log.String() }

// LogTail returns the last n lines of the log.
func (p *proc) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(p.Log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Notifications returns the sd_notify datagrams of the current run.
func (p *proc) Notifications() []string { return p.notify.all() }

// WaitNotify waits for a datagram of the current run holding the line want.
func (p *proc) WaitNotify(want string) {
	p.t.Helper()
	mqtttest.WaitFor(p.t, func() bool { return p.notify.has(want) }, "sd_notify %q (got %q)", want, p.notify.all())
}

// WaitLog waits until the log contains s and returns the last line that
// holds it.
func (p *proc) WaitLog(s string) string {
	p.t.Helper()
	mqtttest.WaitFor(p.t, func() bool { return strings.Contains(p.Log(), s) }, "gateway log line containing %q", s)
	return mqtttest.LastLine(p.Log(), s)
}

//

// notifySocket is a fake systemd notify socket: a unixgram socket that
// records every datagram the gateway sends.
type notifySocket struct {
	path string
	dir  string
	conn *net.UnixConn
	done chan struct{}

	mu   sync.Mutex
	msgs []string
}

// newNotifySocket listens in a short temp dir (sun_path is 108 bytes; test
// temp dirs can be long).
func newNotifySocket() (*notifySocket, error) {
	dir, err := os.MkdirTemp("", "gwn")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	ns := &notifySocket{path: path, dir: dir, conn: conn, done: make(chan struct{})}
	go ns.read()
	return ns, nil
}

func (ns *notifySocket) read() {
	defer close(ns.done)
	buf := make([]byte, 4096)
	for {
		n, _, err := ns.conn.ReadFromUnix(buf)
		if err != nil {
			return
		}
		ns.mu.Lock()
		ns.msgs = append(ns.msgs, string(buf[:n]))
		ns.mu.Unlock()
	}
}

func (ns *notifySocket) all() []string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return append([]string(nil), ns.msgs...)
}

// has reports whether a datagram holds the line want.
func (ns *notifySocket) has(want string) bool {
	for _, m := range ns.all() {
		for _, line := range strings.Split(m, "\n") {
			if line == want {
				return true
			}
		}
	}
	return false
}

// count returns how many datagrams hold the line want.
func (ns *notifySocket) count(want string) int {
	n := 0
	for _, m := range ns.all() {
		for _, line := range strings.Split(m, "\n") {
			if line == want {
				n++
			}
		}
	}
	return n
}

func (ns *notifySocket) close() {
	ns.conn.Close()
	<-ns.done
	os.RemoveAll(ns.dir)
}
