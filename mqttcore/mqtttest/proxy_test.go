package mqtttest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echoServer echoes every byte back and remembers what it received.
type echoServer struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	got  bytes.Buffer
	conn []net.Conn
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.conn = append(e.conn, c)
			e.mu.Unlock()
			e.wg.Add(1)
			go e.serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		e.mu.Lock()
		for _, c := range e.conn {
			c.Close()
		}
		e.mu.Unlock()
		e.wg.Wait()
	})
	return e
}

func (e *echoServer) serve(c net.Conn) {
	defer e.wg.Done()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			e.mu.Lock()
			e.got.Write(buf[:n])
			e.mu.Unlock()
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (e *echoServer) received() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.got.String()
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg and reads the echo.
func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len(msg))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if string(buf) != msg {
		t.Fatalf("echo = %q, want %q", buf, msg)
	}
}

// silent asserts that nothing arrives on c for a moment and that c is not
// closed (a read deadline expires rather than EOF or RST).
func silent(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	n, err := c.Read(make([]byte, 16))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read = %d, %v; want a deadline error (no data, no FIN/RST)", n, err)
	}
}

func TestProxy_Pass(t *testing.T) {
	e := startEcho(t)
	p := NewProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, "hello")
	WaitFor(t, func() bool { return p.Accepted() == 1 && p.Active() == 1 }, "one accepted, active connection")
}

func TestProxy_Refuse_keepsExisting(t *testing.T) {
	e := startEcho(t)
	p := NewProxy(t, e.ln.Addr().String())
	old := dial(t, p)
	roundTrip(t, old, "before")
	p.SetMode(Refuse)
	c := dial(t, p)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("new connection read = %d, %v; want EOF", n, err)
	}
	roundTrip(t, old, "still passing")
	if got := p.Accepted(); got != 2 {
		t.Fatalf("Accepted = %d, want 2", got)
	}
}

func TestProxy_Reset(t *testing.T) {
	e := startEcho(t)
	p := NewProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, "x")
	p.SetMode(Reset)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after Reset: %v, want ECONNRESET", err)
	}
	// A new connection is reset on accept; the RST may even beat the dial.
	c2, err := net.Dial("tcp", p.Addr())
	if err == nil {
		defer c2.Close()
		c2.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = c2.Read(make([]byte, 1))
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("new connection in Reset mode: %v, want ECONNRESET", err)
	}
}

func TestProxy_Blackhole(t *testing.T) {
	e := startEcho(t)
	p := NewProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, "a")
	p.SetMode(Blackhole)
	if _, err := c.Write([]byte("lost")); err != nil {
		t.Fatal(err)
	}
	silent(t, c)
	if got := e.received(); got != "a" {
		t.Fatalf("server received %q, want only %q", got, "a")
	}

	// Back to Pass: the connection that lost bytes is reset, new ones pass.
	p.SetMode(Pass)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read on the blackholed connection after Pass: %v, want ECONNRESET", err)
	}
	roundTrip(t, dial(t, p), "fresh")
}

func TestProxy_DropToClient(t *testing.T) {
	e := startEcho(t)
	p := NewProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, "a")
	p.SetMode(DropToClient)
	if _, err := c.Write([]byte("b")); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, func() bool { return e.received() == "ab" }, "server to receive the client's bytes")
	silent(t, c)
}

func TestProxy_DropToServer(t *testing.T) {
	e := startEcho(t)
	p := NewProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, "a")
	p.SetMode(DropToServer)
	if _, err := c.Write([]byte("b")); err != nil {
		t.Fatal(err)
	}
	silent(t, c)
	if got := e.received(); got != "a" {
		t.Fatalf("server received %q, want %q", got, "a")
	}
}

func TestProxy_Slow_deliversIntact(t *testing.T) {
	e := startEcho(t)
	p := NewProxy(t, e.ln.Addr().String())
	p.SetDelay(time.Millisecond)
	p.SetMode(Slow)
	c := dial(t, p)
	roundTrip(t, c, string(bytes.Repeat([]byte("0123456789"), 3*SlowChunk/10)))
}

func TestProxy_Close_idempotent(t *testing.T) {
	e := startEcho(t)
	p := NewProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, "a")
	p.Close()
	p.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read after Close succeeded")
	}
}
