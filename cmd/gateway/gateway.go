package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/config"
	"github.com/edgegw/edgegw/mqttcore/auth"
	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/broker"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/hw"
)

// storeFile is the bbolt file in gateway.data_dir: the upstream queue, the
// retained messages and the persistent sessions.
const storeFile = "gateway.db"

// bridgeOrigin is the inline-client name the bridge publishes downlink
// messages under; the bridge never sends those back upstream.
const bridgeOrigin = bridge.DefaultOrigin

// Start and shutdown bounds. Each shutdown stage gets its own budget after
// the signal; one that overruns it is logged and left behind, so that the
// stop completes within the unit's TimeoutStopSec (30 s).
const (
	readyTimeout = 30 * time.Second

	httpStopBudget    = 2 * time.Second // statuspage's 1 s grace, then its connections are closed
	healthStopBudget  = time.Second
	remoteStopBudget  = commandTimeout + time.Second // a sensor_read in progress
	sensorsStopBudget = 3 * time.Second
	uplinkStopBudget  = time.Second
	brokerStopBudget  = 5 * time.Second
	// bridgeStopBudget is the bridge's own shutdown timeout (offline
	// status, DISCONNECT) and 2 s for its in-flight publishes.
	bridgeStopBudget = bridge.DefaultShutdownTimeout + 2*time.Second
)

// gateway is one running configuration: the store, the broker, the bridge
// and the sensors, wired in the one direction data flows.
type gateway struct {
	log    *slog.Logger
	level  *slog.LevelVar
	notify *notifier
	start  time.Time

	db     *offline.DB
	queue  *offline.Queue // nil without a bridge
	broker *broker.Broker
	bridge *bridge.Bridge // nil without a bridge
	hw     *hw.Hardware
	reg    *sensors.Registry

	hup    <-chan os.Signal // SIGHUP: reload
	reload func()
	quit   chan string   // a clean stop asked from inside (remote restart), with its cause
	remote *remoteServer // remote configuration and commands; nil without a bridge

	listeners []broker.Listener // the broker's listeners in force (reload reuses unchanged ones)
	httpTLS   *tls.Config       // http.tls, loaded by the check (nil without it)

	verdict atomic.Pointer[healthVerdict] // the latest health check's

	reloadMu sync.Mutex // one reload at a time (SIGHUP, remote)

	mu      sync.Mutex
	sensors *sensorSet // the running sensors; replaced on reload
	current *config.Config
	auth    *auth.Auth // the broker's users (nil without any); replaced on reload
}

// config returns the configuration in force (it changes on reload).
func (g *gateway) config() *config.Config {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.current
}

// newGateway opens the store and builds every component. It starts nothing.
func newGateway(l *loaded, log *slog.Logger, level *slog.LevelVar) (_ *gateway, err error) {
	cfg := l.cfg
	g := &gateway{current: cfg, log: log, level: level, notify: newNotifier(), start: time.Now(), reg: newRegistry(),
		auth: brokerAuth(l.broker), httpTLS: l.httpTLS, quit: make(chan string, 1)}
	if err := os.MkdirAll(cfg.Gateway.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	g.db, err = offline.Open(filepath.Join(cfg.Gateway.DataDir, storeFile), offline.Options{Logger: log.With("component", "store")})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	defer func() {
		if err != nil {
			g.db.Close()
		}
	}()
	bo := l.broker
	bo.Logger = log.With("component", "broker")
	bo.Retained = g.db.KV("retained")
	bo.Sessions = g.db.KV("sessions")
	bo.Messages = g.db.KV("held")
	bo.SysExtra = g.sysExtra
	if cfg.Bridge != nil {
		// One commit delay for every message a local publisher waits on.
		bo.CommitDelay = time.Duration(cfg.Bridge.Queue.CommitDelay)
		if bo.CommitDelay == 0 {
			bo.CommitDelay = -1 // write at once
		}
		if err := g.newBridge(); err != nil {
			return nil, err
		}
		bo.Hook = g.bridge
	}
	g.listeners = bo.Listeners
	g.broker, err = broker.New(bo)
	if err != nil {
		return nil, err // "broker: …": the broker names itself
	}
	g.hw = hw.New(log.With("component", "hardware"))
	return g, nil
}

// newBridge opens the upstream queue and builds the bridge, whose local side
// is the broker (set later: the broker needs the bridge as its hook first).
func (g *gateway) newBridge() error {
	qo, err := queueOptions(g.config().Bridge.Queue)
	if err != nil {
		return err
	}
	if g.queue, err = g.db.Queue("uplink", qo); err != nil {
		return fmt.Errorf("open queue: %w", err)
	}
	opts, err := bridgeOptions(g.config())
	if err != nil {
		return err
	}
	opts.Queue = g.queue
	opts.Local = localBroker{g}
	opts.Origin = bridgeOrigin
	opts.Metrics = g.metrics
	opts.Logger = g.log.With("component", "bridge")
	if g.bridge, err = bridge.New(opts); err != nil {
		return err // "bridge: invalid options: …": the bridge names itself
	}
	return nil
}

// localBroker lets the bridge publish into the broker built after it. The
// remote topics (remoteLocal) go to the remote server instead: the broker
// never sees them.
type localBroker struct{ g *gateway }

func (l localBroker) Publish(ctx context.Context, origin string, p *packet.Publish) error {
	if strings.HasPrefix(p.Topic, remoteLocal) {
		if l.g.remote != nil {
			l.g.remote.receive(p)
		}
		return nil
	}
	return l.g.broker.Publish(ctx, origin, p)
}

// requestStop asks run to stop cleanly (exit status 0: systemd's
// Restart=always starts the gateway again).
func (g *gateway) requestStop(cause string) {
	select {
	case g.quit <- cause:
	default: // already asked
	}
}

// run runs the gateway until ctx is done or a component fails, then shuts
// down in order: the status page, sensors, bridge (its in-flight publishes
// and the offline status), broker (clients, sessions persisted), store,
// buses.
func (g *gateway) run(ctx context.Context) error {
	defer g.close()
	fail := make(chan error, 8)
	httpLn, err := g.listenHTTP()
	if err != nil {
		return err
	}
	if httpLn != nil {
		defer httpLn.Close() // when the stage never ran; a second Close is harmless
	}

	brokerStage := startStage(fail, "broker", g.broker.Run)
	if err := g.awaitListeners(ctx, fail); err != nil {
		brokerStage.stop(g.log, brokerStopBudget)
		return explainListenError(err)
	}
	var bridgeStage, uplinkStage, remoteStage *stage
	if g.bridge != nil {
		uplinkStage = startStage(fail, "uplink state", g.uplinkState)
		bridgeStage = startStage(fail, "bridge", g.bridge.Run)
	}
	if g.remote != nil {
		remoteStage = startStage(fail, "remote", g.remote.run)
	}
	g.startSensors(g.config())
	healthStage := startStage(fail, "health", g.health)
	var httpStage *stage
	if httpLn != nil {
		httpStage = startStage(fail, "http", func(ctx context.Context) error { return g.serveHTTP(ctx, httpLn) })
	}
	g.notify.notify("READY=1", "STATUS="+g.status())
	g.log.Info("gateway running", "id", g.config().Gateway.ID, "version", version, "listeners", addrStrings(g.broker.Addrs()))

	err = g.wait(ctx, fail)
	g.notify.notify("STOPPING=1", "STATUS=stopping")
	if httpStage != nil {
		httpStage.stop(g.log, httpStopBudget)
	}
	healthStage.stop(g.log, healthStopBudget)
	if remoteStage != nil {
		remoteStage.stop(g.log, remoteStopBudget)
	}
	g.stopSensorsWithin(sensorsStopBudget)
	g.publishSensorsOffline()
	if bridgeStage != nil {
		bridgeStage.stop(g.log, bridgeStopBudget)
		uplinkStage.stop(g.log, uplinkStopBudget)
		g.publishUplinkState(context.Background()) // disconnected, for local clients until the broker stops
	}
	brokerStage.stop(g.log, brokerStopBudget)
	return err
}

// wait serves reloads until ctx is done or a component fails.
func (g *gateway) wait(ctx context.Context, fail <-chan error) error {
	for {
		select {
		case <-ctx.Done():
			g.log.Info("shutting down", "cause", context.Cause(ctx))
			return nil
		case err := <-fail:
			g.log.Error("component failed, shutting down", "err", err)
			return err
		case cause := <-g.quit:
			g.log.Info("shutting down", "cause", cause)
			return nil
		case <-g.hup:
			g.notify.notify("RELOADING=1")
			if g.reload != nil {
				g.reload()
			}
			g.notify.notify("READY=1", "STATUS="+g.status())
		}
	}
}

// awaitListeners waits until the broker has bound every listener.
func (g *gateway) awaitListeners(ctx context.Context, fail <-chan error) error {
	deadline := time.Now().Add(readyTimeout)
	for len(g.broker.Addrs()) < len(g.listeners) {
		select {
		case err := <-fail:
			return err
		case <-ctx.Done():
			return nil
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("broker listeners not bound after 30s")
		}
	}
	return nil
}

// close releases the store and the hardware, after every stage stopped.
func (g *gateway) close() {
	if err := g.db.Close(); err != nil {
		g.log.Error("close store", "err", err)
	}
	if err := g.hw.Close(); err != nil {
		g.log.Error("close hardware", "err", err)
	}
}

// stage is one component's goroutine with its own cancellation, so that
// shutdown can stop components one after another.
type stage struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
}

// startStage runs fn in a goroutine until stop; an error it returns before
// stop is sent to fail as it is (components prefix their own errors, e.g.
// "broker: listen on …").
func startStage(fail chan<- error, name string, fn func(context.Context) error) *stage {
	ctx, cancel := context.WithCancel(context.Background())
	s := &stage{name: name, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		err := fn(ctx)
		if ctx.Err() == nil {
			if err == nil {
				err = fmt.Errorf("%s returned early", name)
			}
			fail <- err
		}
	}()
	return s
}

// stop cancels the stage and waits for it to return, at most budget: a
// stage still running then is logged and left behind.
func (s *stage) stop(log *slog.Logger, budget time.Duration) {
	s.cancel()
	if !waitDone(s.done, budget) {
		log.Error("shutdown: stage did not stop in time; going on without it", "stage", s.name, "budget", budget)
	}
}

// waitDone waits for done to close, at most budget, and reports whether it did.
func waitDone(done <-chan struct{}, budget time.Duration) bool {
	t := time.NewTimer(budget)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

func addrStrings(addrs []net.Addr) []string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return s
}
