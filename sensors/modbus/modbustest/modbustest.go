// Package modbustest runs an independent Modbus server for tests: pymodbus
// (Debian's python3-pymodbus and python3-serial-asyncio), serving Modbus TCP
// (or RTU frames over TCP) on a loopback port, or Modbus RTU on one end of a
// socat pseudo-terminal pair. Tests skip when pymodbus or socat is missing, and fail instead when
// the CI variable is set.
//
// The server holds the same values every time (server.py lists them), with
// addresses as they go on the wire. Unit 1:
//
//	holding 0      215                uint16; 21.5 with scale 0.1
//	holding 1      0xFFF6             int16 -10
//	holding 2-3    0x0001 0xE240      uint32 123456
//	holding 4-5    0xFFFE 0x1DC0      int32 -123456
//	holding 6-7    0x4366 0x8000      float32 230.5
//	holding 8-9    0x0000 0xC144      float32 -12.25, low word first
//	holding 10     0x3412             uint16 0x1234 (4660), little-endian bytes
//	holding 11-12  0x0000 0x44C1      float32 -12.25, little-endian bytes, low word first
//	holding 20     7                  (30 holding registers in all: 30+ is exception 2)
//	input 0-1      0x4248 0x0000      float32 50.0
//	input 2        1013
//	coils 0-5      1 0 0 0 0 1
//	discrete 0-1   1 0
//
// Unit 2 has holding 0-1 = 42, 43, input 0 = 44, coil 0 off and discrete
// input 0 on. Other units get no answer (a request to them times out).
//
// Limitations: one process per Server; Stop kills it (a slave losing
// power), Start runs it again on the same address; Pause and Resume stop
// and continue it (a slave that hangs without closing the connection);
// Unplug and Replug also remove and remake an RTU server's
// pseudo-terminal pair (a USB adapter pulled out and plugged back).
package modbustest

import (
	"bufio"
	_ "embed"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

//go:embed server.py
var script []byte

// Server is a running (or stopped) pymodbus server.
type Server struct {
	// Addr is "127.0.0.1:port" for Modbus TCP; for RTU, the device the
	// client opens (the other end of the pseudo-terminal pair).
	Addr string

	t    testing.TB
	args []string // server.py's arguments
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for

	plug   func() (unplug func()) // RTU: makes the pseudo-terminal pair
	unplug func()                 // RTU: removes it; nil while unplugged
}

// StartTCP starts a Modbus TCP server on a free loopback port.
func StartTCP(t testing.TB) *Server { t.Helper(); return startNet(t, "tcp") }

// StartRTUOverTCP starts a server of RTU frames over TCP (what a serial
// device server forwarding an RS485 line speaks) on a free loopback port.
func StartRTUOverTCP(t testing.TB) *Server { t.Helper(); return startNet(t, "rtuovertcp") }

// startNet starts a server of mode (server.py's tcp or rtuovertcp) on a
// free loopback port.
func startNet(t testing.TB, mode string) *Server {
	t.Helper()
	python := pythonPath(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), t: t,
		args: []string{python, scriptFile(t), mode, "127.0.0.1", strconv.Itoa(port)}}
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// StartRTU starts a Modbus RTU server at baud on one end of a new
// pseudo-terminal pair; Addr is the other end's path.
func StartRTU(t testing.TB, baud int) *Server {
	t.Helper()
	python := pythonPath(t)
	dir := t.TempDir()
	serverEnd, clientEnd := filepath.Join(dir, "server"), filepath.Join(dir, "client")
	s := &Server{Addr: clientEnd, t: t,
		args: []string{python, scriptFile(t), "rtu", serverEnd, strconv.Itoa(baud)},
		plug: func() func() { return startSocat(t, serverEnd, clientEnd) }}
	s.unplug = s.plug()
	t.Cleanup(func() {
		s.Stop()
		if s.unplug != nil {
			s.unplug()
		}
	})
	s.Start()
	return s
}

// Unplug stops an RTU server and removes its pseudo-terminal pair, as
// pulling an RS485 USB adapter out does: the client's port fails and its
// device is gone.
func (s *Server) Unplug() {
	s.t.Helper()
	if s.unplug == nil {
		s.t.Fatal("modbustest: not an RTU server, or unplugged already")
	}
	s.Stop()
	s.unplug()
	s.unplug = nil
}

// Replug makes the pseudo-terminal pair again, at the same paths, and
// starts the server.
func (s *Server) Replug() {
	s.t.Helper()
	if s.plug == nil || s.unplug != nil {
		s.t.Fatal("modbustest: not an unplugged RTU server")
	}
	s.unplug = s.plug()
	s.Start()
}

// Start runs the server (again) and waits until it serves.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatal("modbustest: server already running")
	}
	cmd := exec.Command(s.args[0], s.args[1:]...)
	cmd.Stderr = &logWriter{t: s.t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("modbustest: start pymodbus: %v", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ready <- sc.Scan() && sc.Text() == "ready"
		for sc.Scan() {
		}
		cmd.Wait()
		close(s.done)
	}()
	select {
	case ok := <-ready:
		if !ok {
			<-s.done
			s.cmd = nil
			s.t.Fatalf("modbustest: pymodbus exited before serving (%v)", cmd.ProcessState)
		}
	case <-time.After(30 * time.Second):
		s.Stop()
		s.t.Fatal("modbustest: pymodbus not ready after 30s")
	}
}

// Stop kills the server, like a slave losing power, and waits for it.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Pause stops the server process without closing anything: requests are
// accepted by the kernel and never answered.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

// Read returns count holding registers (table "holding") or coils ("coil",
// as 0 and 1) of unit from address, as pymodbus's own client reads them
// from a Modbus TCP server: what a write left there, checked without the
// driver under test.
func (s *Server) Read(unit int, table string, address, count int) []int {
	s.t.Helper()
	if s.args[2] != "tcp" {
		s.t.Fatal("modbustest: Read needs a Modbus TCP server")
	}
	host, port, _ := net.SplitHostPort(s.Addr)
	out, err := exec.Command(s.args[0], s.args[1], "read", host, port, strconv.Itoa(unit), table,
		strconv.Itoa(address), strconv.Itoa(count)).Output()
	if err != nil {
		s.t.Fatalf("modbustest: read %s %d: %v", table, address, err)
	}
	var vs []int
	for _, f := range strings.Fields(string(out)) {
		v, err := strconv.Atoi(f)
		if err != nil {
			s.t.Fatalf("modbustest: read %s %d: %q", table, address, out)
		}
		vs = append(vs, v)
	}
	return vs
}

//

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatal("modbustest: server not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}

// pythonPath returns a Python that imports pymodbus's server and
// serial_asyncio: Debian's /usr/bin/python3 first (a pyenv python3 earlier
// in $PATH lacks Debian's packages), then python3 in $PATH.
func pythonPath(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(p)
		if err == nil && exec.Command(path, "-c", "import pymodbus.server, serial_asyncio").Run() == nil {
			return path
		}
	}
	missing(t, "pymodbus is not installed (Debian packages python3-pymodbus and python3-serial-asyncio)")
	return ""
}

// missing skips the test, or fails it when CI is set.
func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal("modbustest: " + what + " (CI is set, so this is a failure)")
	}
	t.Skip("modbustest: " + what)
}

// scriptFile writes server.py where the test can run it.
func scriptFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "server.py")
	if err := os.WriteFile(path, script, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startSocat links a pseudo-terminal pair at a and b until stop is
// called.
func startSocat(t testing.TB, a, b string) (stop func()) {
	t.Helper()
	socat, err := exec.LookPath("socat")
	if err != nil {
		missing(t, "socat is not installed (Debian package socat)")
	}
	cmd := exec.Command(socat, "pty,raw,echo=0,link="+a, "pty,raw,echo=0,link="+b)
	cmd.Stderr = &logWriter{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatalf("modbustest: start socat: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM) // socat removes its links
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		os.Remove(a)
		os.Remove(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !exists(a) || !exists(b) {
		if time.Now().After(deadline) {
			stop()
			t.Fatal("modbustest: socat made no pseudo-terminals in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return stop
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// logWriter passes a child's stderr to the test log.
type logWriter struct{ t testing.TB }

func (w *logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(fmt.Sprintf("modbustest: %s", p), "\n"))
	return len(p), nil
}
