package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
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
	lns, err := bindAll(b.log, b.opts.Listeners)
	if err != nil {
		return err
	}
	failed := make(chan error, 1)
	b.lmu.Lock()
	b.runCtx, b.failed = ctx, failed
	for i, ln := range lns {
		b.startListenerLocked(b.opts.Listeners[i], ln)
	}
	b.lmu.Unlock()

	var wg sync.WaitGroup
	wg.Go(func() { b.sysLoop(ctx) })
	wg.Go(func() { b.persistLoop(ctx) })
	wg.Go(func() { b.expiryLoop(ctx) })
	select {
	case <-ctx.Done():
	case err = <-failed:
	}
	b.lmu.Lock()
	live := b.live
	b.live, b.runCtx = nil, nil
	b.lmu.Unlock()
	for _, l := range live {
		l.stop()
	}
	wg.Wait()
	if b.held != nil {
		b.held.flush()
	}
	if ferr := b.Flush(); ferr != nil {
		b.log.Error("persist broker state at shutdown", "err", ferr)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// SetListeners replaces the listeners of a running broker, for a
// configuration reload: a listener equal to a running one (same address,
// WebSocket path and *tls.Config pointer) keeps running with its clients;
// the others are closed, with their clients, and the new ones bound. If a
// new listener cannot be bound, SetListeners rebinds what it closed and
// returns the error. On a broker that is not running it sets the
// listeners the next Run binds.
func (b *Broker) SetListeners(ls []Listener) error {
	if err := checkListeners(ls); err != nil {
		return err
	}
	b.lmu.Lock()
	defer b.lmu.Unlock()
	if b.runCtx == nil {
		b.opts.Listeners = append([]Listener(nil), ls...)
		return nil
	}
	kept, added, removed := diffListeners(b.live, ls)
	for _, l := range removed {
		l.stop()
	}
	b.live = kept
	lns, err := bindAll(b.log, added)
	if err != nil {
		old := make([]Listener, len(removed))
		for i, l := range removed {
			old[i] = l.spec
		}
		if back, rerr := bindAll(b.log, old); rerr == nil {
			for i, ln := range back {
				b.startListenerLocked(old[i], ln)
			}
		} else {
			b.log.Error("rebind the replaced listeners", "err", rerr)
		}
		b.live = orderLike(b.live, b.opts.Listeners)
		return err
	}
	for i, ln := range lns {
		b.startListenerLocked(added[i], ln)
	}
	b.opts.Listeners = append([]Listener(nil), ls...)
	b.live = orderLike(b.live, ls)
	return nil
}

// orderLike returns live in the order of specs (Addrs reports addresses in
// the configured order).
func orderLike(live []*liveListener, specs []Listener) []*liveListener {
	kept, _, rest := diffListeners(live, specs)
	return append(kept, rest...)
}

// liveListener is a bound listener of a running broker.
type liveListener struct {
	spec   Listener
	addr   net.Addr
	cancel context.CancelFunc
	done   chan struct{}
}

// stop closes the listener and its connections and waits for them.
func (l *liveListener) stop() {
	l.cancel()
	<-l.done
}

// startListenerLocked serves ln in a goroutine of its own context; a serve
// error before it is stopped ends Run. Callers hold b.lmu.
func (b *Broker) startListenerLocked(spec Listener, ln net.Listener) {
	ctx, cancel := context.WithCancel(b.runCtx)
	l := &liveListener{spec: spec, addr: ln.Addr(), cancel: cancel, done: make(chan struct{})}
	b.live = append(b.live, l)
	failed := b.failed
	go func() {
		defer close(l.done)
		var err error
		if spec.WebSocketPath != "" {
			err = b.serveWebSocket(ctx, ln, spec.WebSocketPath)
		} else {
			err = b.Serve(ctx, ln)
		}
		if err != nil && ctx.Err() == nil {
			select {
			case failed <- err:
			default:
			}
		}
	}()
}

// diffListeners splits the running listeners into those ls keeps and those
// it drops, and returns the entries of ls that need binding.
func diffListeners(live []*liveListener, ls []Listener) (kept []*liveListener, added []Listener, removed []*liveListener) {
	used := make([]bool, len(live))
	for _, want := range ls {
		found := false
		for i, l := range live {
			if !used[i] && l.spec == want {
				used[i], found = true, true
				kept = append(kept, l)
				break
			}
		}
		if !found {
			added = append(added, want)
		}
	}
	for i, l := range live {
		if !used[i] {
			removed = append(removed, l)
		}
	}
	return kept, added, removed
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
	return nil
}

// bindAll opens every listener of specs, or none.
func bindAll(log *slog.Logger, specs []Listener) ([]net.Listener, error) {
	var lns []net.Listener
	for _, spec := range specs {
		ln, err := net.Listen("tcp", spec.Address)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, fmt.Errorf("broker: listen on %s: %w", spec.Address, err)
		}
		if spec.TLS != nil {
			ln = tls.NewListener(ln, spec.TLS)
		}
		log.Info("listening", "addr", ln.Addr().String(), "tls", spec.TLS != nil, "websocket", spec.WebSocketPath)
		lns = append(lns, ln)
	}
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
