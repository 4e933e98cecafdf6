package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Run binds every configured listener (TCP, TLS, WebSocket), serves them,
// publishes $SYS every SysInterval and persists state every
// PersistInterval. When ctx is done it closes the listeners and every
// connection it accepted, writes the persistent sessions and retained
// messages, and returns nil. It returns an error if a listener cannot be
// bound or fails.
func (b *Broker) Run(ctx context.Context) error {
	if err := b.setRunning(true); err != nil {
		return err
	}
	defer b.setRunning(false)
	lns, err := b.bind()
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, ln := range lns {
		path := b.opts.Listeners[i].WebSocketPath
		g.Go(func() error {
			if path != "" {
				return b.serveWebSocket(gctx, ln, path)
			}
			return b.Serve(gctx, ln)
		})
	}
	g.Go(func() error { b.sysLoop(gctx); return nil })
	g.Go(func() error { b.persistLoop(gctx); return nil })
	err = g.Wait()
	if ferr := b.Flush(); ferr != nil {
		b.log.Error("persist broker state at shutdown", "err", ferr)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Serve accepts connections on l and serves each with [Broker.ServeConn]
// until ctx is done; then it closes l, waits for its connections to end
// and returns nil. It returns an error if Accept fails for good.
func (b *Broker) Serve(ctx context.Context, l net.Listener) error {
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	var delay time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("broker: accept on %s: %w", l.Addr(), err)
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			b.log.Warn("accept failed; retrying", "err", err, "delay", delay)
			sleep(ctx, delay)
			continue
		}
		delay = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.ServeConn(ctx, conn)
		}()
	}
}

//

// setRunning guards against a second concurrent Run.
func (b *Broker) setRunning(on bool) error {
	b.lmu.Lock()
	defer b.lmu.Unlock()
	if on && b.running {
		return ErrRunning
	}
	b.running = on
	if !on {
		b.addrs = nil
	}
	return nil
}

// bind opens every listener, or none.
func (b *Broker) bind() ([]net.Listener, error) {
	var lns []net.Listener
	var addrs []net.Addr
	for _, spec := range b.opts.Listeners {
		ln, err := net.Listen("tcp", spec.Address)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, fmt.Errorf("broker: listen on %s: %w", spec.Address, err)
		}
		addrs = append(addrs, ln.Addr())
		if spec.TLS != nil {
			ln = tls.NewListener(ln, spec.TLS)
		}
		b.log.Info("listening", "addr", ln.Addr().String(), "tls", spec.TLS != nil, "websocket", spec.WebSocketPath)
		lns = append(lns, ln)
	}
	b.lmu.Lock()
	b.addrs = addrs
	b.lmu.Unlock()
	return lns, nil
}

// checkListeners validates the listener options.
func checkListeners(ls []Listener) error {
	var errs []error
	for i, l := range ls {
		if l.Address == "" {
			errs = append(errs, fmt.Errorf("broker: listener %d: empty address", i))
		}
		if l.WebSocketPath != "" && l.WebSocketPath[0] != '/' {
			errs = append(errs, fmt.Errorf("broker: listener %d: websocket path %q does not start with /", i, l.WebSocketPath))
		}
	}
	return errors.Join(errs...)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
