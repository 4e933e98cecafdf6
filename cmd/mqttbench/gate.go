package main

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// gate is a loopback TCP endpoint that stands in for an upstream broker:
// while closed it accepts connections and drops them at once (an upstream
// that is down); once opened it forwards new connections to upstream.
type gate struct {
	l        net.Listener
	upstream string
	open     atomic.Bool

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

// Addr is the gate's "127.0.0.1:port".
func (g *gate) Addr() string { return g.l.Addr().String() }

// Open makes the gate forward the connections it accepts from now on.
func (g *gate) Open() { g.open.Store(true) }

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
		if !g.open.Load() || g.upstream == "" {
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
		_, _ = io.Copy(up, c)
		up.Close()
		close(done)
	}()
	_, _ = io.Copy(c, up)
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
