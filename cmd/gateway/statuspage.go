package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/edgegw/edgegw/config"
	"github.com/edgegw/edgegw/internal/statuspage"
	"github.com/edgegw/edgegw/mqttcore/auth"
	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/broker"
	"github.com/edgegw/edgegw/mqttcore/packet"
)

// This file serves the http section: the status page, /status.json,
// /metrics and /healthz (package statuspage), from the gateway's parts.

// listenHTTP binds http.address (nil without an http section), before
// anything starts, so that a taken port stops the start with a clear error.
func (g *gateway) listenHTTP() (net.Listener, error) {
	h := g.config().HTTP
	if h == nil {
		return nil, nil
	}
	ln, err := net.Listen("tcp", h.Address)
	if err != nil {
		return nil, fmt.Errorf("http: %w", err) // "listen tcp 127.0.0.1:8080: bind: address already in use"
	}
	if !h.Auth && !isLoopback(ln.Addr()) {
		g.log.Warn("http: the status page is open to the network without authentication; set http.auth", "address", ln.Addr().String())
	}
	return ln, nil
}

// serveHTTP serves the status page on ln until ctx is done.
func (g *gateway) serveHTTP(ctx context.Context, ln net.Listener) error {
	h, tc := g.config().HTTP, g.httpTLS
	log := g.log.With("component", "http")
	opts := statuspage.Options{Logger: log}
	if h.Auth {
		opts.Auth = httpAuth{g}
	}
	log.Info("status page listening", "address", ln.Addr().String(), "tls", tc != nil, "auth", h.Auth)
	return statuspage.Serve(ctx, ln, statuspage.Handler(statusSource{g}, opts), statuspage.ServeOptions{TLS: tc, Logger: log})
}

// httpTLS loads http.tls's certificate (nil without it), for `gateway
// check` and before the start.
func httpTLS(c *config.Config) (*tls.Config, error) {
	if c.HTTP == nil || c.HTTP.TLS == nil {
		return nil, nil
	}
	tc, err := serverTLS(c.HTTP.TLS)
	if err != nil {
		return nil, fmt.Errorf("http.tls: %w", err)
	}
	return tc, nil
}

// brokerAuth returns the broker's users and ACL checker (nil when the
// broker has none).
func brokerAuth(o broker.Options) *auth.Auth {
	a, _ := o.Authenticator.(*auth.Auth)
	return a
}

// httpAuth checks basic auth against the broker's users, through the
// broker's own checker: the same bcrypt slots, cache and per-address
// penalties as MQTT logins. http.users, when set, narrows who may log in.
type httpAuth struct{ g *gateway }

func (a httpAuth) Allow(ctx context.Context, addr netip.Addr, username, password string) bool {
	a.g.mu.Lock()
	au, h := a.g.auth, a.g.current.HTTP
	a.g.mu.Unlock()
	if au == nil || h == nil {
		return false
	}
	ok := au.AuthenticateFrom(ctx, addr, username, []byte(password), true, true) == packet.Accepted
	return ok && (len(h.Users) == 0 || slices.Contains(h.Users, username))
}

// statusSource gathers the status page's data from the gateway's parts.
type statusSource struct{ g *gateway }

func (s statusSource) Health() statuspage.Health { return s.g.healthStatus() }

func (s statusSource) Snapshot() statuspage.Snapshot {
	g := s.g
	cfg := g.config()
	st := g.broker.Stats()
	db := g.db.Stats()
	snap := statuspage.Snapshot{
		GatewayID:     cfg.Gateway.ID,
		Version:       version,
		TS:            time.Now().UTC(),
		UptimeSeconds: seconds(time.Since(g.start)),
		LocalClients:  st.ClientsConnected,
		Broker:        statuspage.Broker{PublishReceived: st.PublishReceived, PublishSent: st.PublishSent, Retained: st.Retained, Sessions: st.Sessions},
		Store: statuspage.Store{FileSize: db.FileSize, Commits: db.Commits, Fsyncs: db.Fsyncs,
			BytesWritten: db.BytesWritten, CommitErrors: db.CommitErrors},
		Sensors: g.sensorStatuses(),
		Health:  g.healthStatus(),
	}
	snap.RSSBytes, _ = readRSS()
	snap.DiskFreeBytes, _ = diskFree(cfg.Gateway.DataDir)
	if g.bridge != nil {
		q := g.queue.Stats()
		snap.Queue = &statuspage.Queue{Messages: q.Messages, Bytes: q.Bytes, OldestAgeSeconds: seconds(q.OldestAge), Quarantined: q.Quarantined}
		snap.Uplink = uplinkStatus(g.bridge.Stats())
	}
	return snap
}

// uplinkStatus maps the bridge's statistics.
func uplinkStatus(b bridge.Stats) *statuspage.Uplink {
	u := &statuspage.Uplink{
		State: "offline", Address: b.Address, ConnectedSeconds: seconds(b.ConnectedFor),
		Connects: b.Connects, Reconnects: b.Reconnects, ConnectFailures: b.ConnectFailures,
		Forwarded: b.Forwarded, Received: b.Received, Inflight: b.Inflight, Dropped: b.Dropped,
		ServerDisconnects: b.ServerDisconnects,
		Outage: statuspage.Outage{Count: b.Outage.Count, CurrentSeconds: seconds(b.Outage.Age), Draining: b.Outage.Draining,
			LastSeconds: seconds(b.Outage.LastLength), PeakBacklog: b.Outage.PeakBacklog, LastDrainSeconds: seconds(b.Outage.LastDrainTime)},
	}
	if b.Connected {
		u.State = "online"
	}
	if b.LastError != nil {
		u.LastError = b.LastError.Error()
	}
	return u
}

// sensorStatuses describes every configured sensor, in file order.
func (g *gateway) sensorStatuses() []statuspage.Sensor {
	cfg := g.config()
	g.mu.Lock()
	set := g.sensors
	g.mu.Unlock()
	out := make([]statuspage.Sensor, 0, len(cfg.Sensors))
	for _, c := range cfg.Sensors {
		s := statuspage.Sensor{Name: c.Name, Driver: c.Driver, Topic: c.Topic, State: statuspage.SensorStarting, Readings: []statuspage.Reading{}}
		if set != nil {
			describeSensor(&s, set)
		}
		out = append(out, s)
	}
	return out
}

// describeSensor fills s from its poller or its open failure.
func describeSensor(s *statuspage.Sensor, set *sensorSet) {
	p, failing, openErr := set.sensor(s.Name)
	if p == nil {
		if failing && openErr != nil {
			s.State, s.Error = statuspage.SensorUnavailable, openErr.Error()
		}
		return
	}
	st, last := p.Stats(), p.Last()
	s.Reads, s.Errors, s.Published = st.Reads, st.Errors, st.Published
	s.Commands, s.CommandErrors = st.Commands, st.CommandErrors
	switch {
	case st.Failing:
		s.State = statuspage.SensorError
	case st.Reads > 0:
		s.State = statuspage.SensorOK
	}
	if last.Error != "" {
		s.Error, s.ErrorTime = last.Error, &last.ErrorTime
	}
	for _, r := range last.Readings {
		s.Readings = append(s.Readings, statuspage.Reading{Quantity: r.Quantity, Value: r.Value, Unit: r.Unit, TS: r.Time.UTC()})
	}
}

// isLoopback reports whether a listener's address is a loopback address.
func isLoopback(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	return err == nil && ap.Addr().IsLoopback()
}

// seconds rounds d to milliseconds, in seconds, as the metrics topic does.
func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}
