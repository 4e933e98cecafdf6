package statuspage_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/edgegw/edgegw/internal/statuspage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs Serve on a loopback port until the test ends and returns the
// address and a function that stops it and returns Serve's result.
func serve(t *testing.T, h http.Handler) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- statuspage.Serve(ctx, ln, h, statuspage.ServeOptions{Grace: 200 * time.Millisecond}) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-errc:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return 5 s after its context ended")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	return ln.Addr().String(), stop
}

// Serve returns nil once its context ends, ending a request under way
// (whose context is cancelled) within the grace period, and closes the
// listener.
func TestServe_stopsWithContext(t *testing.T) {
	started := make(chan struct{})
	addr, stop := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	go func() {
		if res, err := http.Get("http://" + addr + "/"); err == nil {
			res.Body.Close()
		}
	}()
	<-started
	t0 := time.Now()
	if err := stop(); err != nil {
		t.Errorf("Serve = %v, want nil after cancellation", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("Serve took %v to stop with a request under way", d)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("listener still accepts after Serve returned")
	}
}

// Connections beyond MaxConns are closed at once; a closed one frees its
// slot.
func TestServe_limitsConnections(t *testing.T) {
	addr, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range statuspage.MaxConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// The server has accepted the first MaxConns once one of them answers.
	if got := roundTrip(t, conns[0]); got != "HTTP/1.1 200 OK" {
		t.Fatalf("first connection: %q", got)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if got := roundTrip(t, extra); got != "" {
		t.Errorf("connection %d got %q, want it closed", statuspage.MaxConns+1, got)
	}
	extra.Close()
	conns[1].Close()
	var got string
	for deadline := time.Now().Add(5 * time.Second); got == "" && time.Now().Before(deadline); {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		got = roundTrip(t, c)
		c.Close()
	}
	if got != "HTTP/1.1 200 OK" {
		t.Errorf("after closing one connection, a new one got %q, want served", got)
	}
}

// roundTrip sends a GET on c and returns the status line ("" when the
// server closed the connection).
func roundTrip(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return ""
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return ""
	}
	return line[:len(line)-2]
}
