package main

import (
	"fmt"
	"io"
	"reflect"

	"github.com/edgegw/edgegw/config"
	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/broker"
)

// reloadConfig applies a changed config file (SIGHUP, a remote change)
// without dropping the offline queue or connected local clients: the log
// level, users and ACL, the bridge's topic rules and upstream settings
// (addresses, client id, credentials, TLS: the bridge reconnects), the
// listeners whose section changed (clients of unchanged listeners stay
// connected), and the sensors. An invalid file is rejected with its errors
// and the running config stays. Sections that need a restart to change
// (data_dir, limits, …) are reported as such.
func (g *gateway) reloadConfig(path string) reloadResult {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	var errs errorLines
	l, err := loadChecked(path, &errs)
	if err != nil {
		g.log.Error("reload rejected: config invalid; keeping the running one", "file", path, "errors", errs.lines)
		return reloadResult{errs: errs.lines}
	}
	cfg := l.cfg
	g.level.Set(parseLevel(cfg.Log.Level))
	g.broker.SetAuth(l.broker.AllowAnonymous, l.broker.Authenticator, l.broker.Authorizer)
	g.mu.Lock()
	old := g.current
	g.current = cfg
	g.auth = brokerAuth(l.broker)
	g.mu.Unlock()
	if !reflect.DeepEqual(withoutLines(cfg.Sensors), withoutLines(old.Sensors)) || cfg.HomeAssistant != old.HomeAssistant {
		g.stopSensors()
		g.startSensors(cfg)
	}
	if !reflect.DeepEqual(cfg.Broker.Listeners, old.Broker.Listeners) {
		g.reloadListeners(reuseRunning(cfg.Broker.Listeners, old.Broker.Listeners, l.broker.Listeners, g.listeners))
	}
	var res reloadResult
	if g.bridge != nil && cfg.Bridge != nil {
		res = g.reloadBridge(old, cfg)
	}
	res.restart = restartSections(old, cfg)
	for _, s := range res.restart {
		g.log.Warn("reload: this section changed but needs a restart to apply", "section", s)
	}
	g.log.Info("config reloaded", "file", path, "sensors", len(cfg.Sensors))
	return res
}

// reloadResult is what a reload did.
type reloadResult struct {
	errs    []string // why the file was rejected (nothing applied)
	restart []string // changed sections that need a restart
	// upstream is the bridge's generation of new upstream settings (see
	// bridge.SetUpstream); 0 when they did not change.
	upstream uint64
}

// reloadBridge applies the bridge's topic rules (and the remote topics) and
// its upstream settings.
func (g *gateway) reloadBridge(old, cfg *config.Config) reloadResult {
	var res reloadResult
	if !reflect.DeepEqual(cfg.Bridge.Topics, old.Bridge.Topics) || cfg.Remote != old.Remote || cfg.Monitor != old.Monitor {
		if err := g.bridge.SetRules(bridgeRules(cfg)); err != nil {
			g.log.Error("reload: bridge topic rules refused; keeping the old ones", "err", err)
		}
	}
	if reflect.DeepEqual(upstreamOf(old.Bridge), upstreamOf(cfg.Bridge)) {
		return res
	}
	tc, err := clientTLS(cfg.Bridge.TLS)
	if err == nil {
		b := cfg.Bridge
		res.upstream, err = g.bridge.SetUpstream(bridge.Upstream{
			Addresses: b.Addresses, ClientID: b.ClientID, Username: b.Username, Password: b.Password, TLS: tc})
	}
	if err != nil {
		g.log.Error("reload: bridge upstream settings refused; keeping the old ones", "err", err)
		res.errs = append(res.errs, "bridge: "+err.Error())
	}
	return res
}

// upstreamOf returns the fields of a bridge section that bridge.SetUpstream
// applies.
func upstreamOf(b *config.Bridge) *config.Bridge {
	return &config.Bridge{Addresses: b.Addresses, ClientID: b.ClientID, Username: b.Username, Password: b.Password,
		PasswordFile: b.PasswordFile, TLS: b.TLS}
}

// restartSections lists the changed sections a reload does not apply.
func restartSections(old, cur *config.Config) []string {
	var s []string
	if old.Broker.Limits != cur.Broker.Limits {
		s = append(s, "broker.limits")
	}
	if old.Broker.SysInterval != cur.Broker.SysInterval {
		s = append(s, "broker.sys_interval")
	}
	if old.Monitor != cur.Monitor {
		s = append(s, "monitor")
	}
	if old.Gateway != cur.Gateway {
		s = append(s, "gateway")
	}
	if !reflect.DeepEqual(withoutReloaded(old.Bridge), withoutReloaded(cur.Bridge)) {
		s = append(s, "bridge")
	}
	if !reflect.DeepEqual(withoutUsers(old.HTTP), withoutUsers(cur.HTTP)) {
		s = append(s, "http")
	}
	if old.Log.Format != cur.Log.Format {
		s = append(s, "log.format")
	}
	return s
}

// reloadListeners hands the broker the new listeners, in which unchanged
// ones are the running values (see reuseRunning): the broker rebinds only
// the others. On failure the old set stays (the broker rebinds what it
// closed) and the error is logged.
func (g *gateway) reloadListeners(ls []broker.Listener) {
	if err := g.broker.SetListeners(ls); err != nil {
		g.log.Error("reload: listeners not changed", "err", err)
		return
	}
	g.listeners = ls
	g.log.Info("reload: listeners applied", "listeners", addrStrings(g.broker.Addrs()))
}

// withoutReloaded copies a bridge section without what a reload applies:
// its topic rules and upstream settings (nil stays nil).
func withoutReloaded(b *config.Bridge) *config.Bridge {
	return cleared(b, func(c *config.Bridge) {
		c.Topics, c.Addresses, c.ClientID, c.Username, c.Password, c.PasswordFile, c.TLS = nil, nil, "", "", "", "", nil
	})
}

// withoutUsers copies an http section without its users, which a reload
// applies (nil stays nil).
func withoutUsers(h *config.HTTP) *config.HTTP {
	return cleared(h, func(c *config.HTTP) { c.Users = nil })
}

// cleared returns a copy of *p with clear applied to it; nil stays nil.
func cleared[T any](p *T, clear func(*T)) *T {
	if p == nil {
		return nil
	}
	c := *p
	clear(&c)
	return &c
}

// withoutLines copies sensor entries with their source lines cleared, so
// that an edit elsewhere in the file does not restart every sensor.
func withoutLines(ss []config.Sensor) []config.Sensor {
	out := make([]config.Sensor, len(ss))
	for i, s := range ss {
		s.Line = 0
		opts := make(map[string]config.Option, len(s.Options))
		for k, o := range s.Options {
			o.Line = 0
			opts[k] = o
		}
		s.Options = opts
		out[i] = s
	}
	return out
}

// errorLines collects printed error lines for a log record.
type errorLines struct{ lines []string }

var _ io.Writer = (*errorLines)(nil)

func (e *errorLines) Write(p []byte) (int, error) {
	e.lines = append(e.lines, fmt.Sprintf("%s", p[:len(p)-min(1, len(p))]))
	return len(p), nil
}
