package main

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// gate is a loopback TCP endpoint that stands in for an upstream broker:
// while closed it accepts connections and drops them at once (an upstream
// that is down); once opened it forwards new connections to upstream,
// holding every chunk of bytes for delay in each direction (a slow link;
// chunks are pipelined, so the delay adds latency, not a rate limit).
type gate struct {
	l        net.Listener
	upstream string
	delay    time.Duration
	open     atomic.Bool
	// onAccept, when set before Run, is called for every accepted
	// connection with whether the gate was open (it is forwarded) or
	// closed (it is dropped); it must be quick.
	onAccept func(open bool)

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// newGate listens on a free loopback port; upstream may be "" for a gate
// that never opens.
func newGate(upstream string) (*gate, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &gate{l: l, upstream: upstream, conns: map[net.Conn]struct{}{}}, nil
}

// newDelayGate is an open gate to upstream that delays each direction by d.
func newDelayGate(upstream string, d time.Duration) (*gate, error) {
	g, err := newGate(upstream)
	if err != nil {
		return nil, err
	}
	g.delay = d
	g.Open()
	return g, nil
}

// Addr is the gate's "127.0.0.1:port".
func (g *gate) Addr() string { return g.l.Addr().String() }

// Open makes the gate forward the connections it accepts from now on.
func (g *gate) Open() { g.open.Store(true) }

// Shut makes the gate drop the connections it accepts from now on;
// forwarded connections go on until either side closes.
func (g *gate) Shut() { g.open.Store(false) }

// Run accepts connections until ctx is done, then closes the listener and
// every connection and returns nil once all its goroutines have ended.
func (g *gate) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		g.l.Close()
		g.mu.Lock()
		for c := range g.conns {
			c.Close()
		}
		g.conns = nil // track refuses from now on
		g.mu.Unlock()
	})
	defer stop()
	for {
		c, err := g.l.Accept()
		if err != nil {
			break
		}
		open := g.open.Load() && g.upstream != ""
		if g.onAccept != nil {
			g.onAccept(open)
		}
		if !open {
			c.Close()
			continue
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.forward(ctx, c)
		}()
	}
	g.wg.Wait()
	return nil
}

// start runs g on a goroutine of its own until stop is called (or ctx is
// done); stop waits for Run to return.
func (g *gate) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		_ = g.Run(ctx)
		close(done)
	}()
	return func() {
		cancel()
		<-done
	}
}

//

// forward copies bytes both ways between c and a new upstream connection
// until either side closes.
func (g *gate) forward(ctx context.Context, c net.Conn) {
	var d net.Dialer
	up, err := d.DialContext(ctx, "tcp", g.upstream)
	if err != nil {
		c.Close()
		return
	}
	if !g.track(c, up) {
		return
	}
	done := make(chan struct{})
	go func() {
		delayCopy(up, c, g.delay)
		up.Close()
		close(done)
	}()
	delayCopy(c, up, g.delay)
	c.Close()
	<-done
	g.untrack(c, up)
}

// track registers conns for closing on shutdown; false (and the conns
// closed) when the gate is already shutting down.
func (g *gate) track(conns ...net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conns == nil {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		g.conns[c] = struct{}{}
	}
	return true
}

// untrack forgets conns.
func (g *gate) untrack(conns ...net.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range conns {
		delete(g.conns, c)
	}
}

// delayCopy copies src to dst until either fails, writing each chunk d
// after it was read. A reader goroutine timestamps the chunks, so chunks
// in flight overlap and the throughput is not limited.
func delayCopy(dst io.Writer, src io.Reader, d time.Duration) {
	if d <= 0 {
		_, _ = io.Copy(dst, src)
		return
	}
	type chunk struct {
		due time.Time
		b   []byte
	}
	chunks := make(chan chunk, 1024)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				chunks <- chunk{time.Now().Add(d), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	for range chunks { // until the reader sees its connection closed
	}
}
