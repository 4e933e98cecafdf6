package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/edgegw/edgegw/config"
	"github.com/edgegw/edgegw/mqttcore/auth"
	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/broker"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
	"github.com/edgegw/edgegw/sensors"
)

// This file turns the config file's sections into each component's options.
// Defaults were filled by the config package; nothing here invents a value.

// brokerOptions maps broker: to broker.Options (without the stores, the hook
// and the logger, which the gateway adds).
func brokerOptions(c *config.Config) (broker.Options, error) {
	var errs []error
	o := broker.Options{
		AllowAnonymous: c.Broker.AllowAnonymous,
		MaxConnections: c.Broker.Limits.MaxConnections,
		MaxPacketSize:  int(c.Broker.Limits.MaxPacketSize),
		MaxInflight:    c.Broker.Limits.MaxInflight,
		MaxQueued:      c.Broker.Limits.MaxQueuedMessages,
		MaxQueuedBytes: int(c.Broker.Limits.MaxQueuedBytes),
		MaxTopicLevels: c.Broker.Limits.MaxTopicLevels,
		MaxTopicLength: c.Broker.Limits.MaxTopicLength,
		MaxSessions:    c.Broker.Limits.MaxSessions,
		SessionExpiry:  dur(c.Broker.Limits.SessionExpiry),
		ReceiveMaximum: c.Broker.Limits.ReceiveMaximum,
		// 0 in the file means none; the broker's 0 means its default.
		TopicAliasMaximum: noneIfZero(c.Broker.Limits.TopicAliasMaximum),
		TopicAliasOut:     noneIfZero(c.Broker.Limits.TopicAliasOut),
		MaxRetained:       c.Broker.Limits.MaxRetainedMessages,
		MaxRetainedBytes:  int(c.Broker.Limits.MaxRetainedBytes),
		SysInterval:       dur(c.Broker.SysInterval),
		Version:           versionLine(),
	}
	ls, err := brokerListeners(c.Broker.Listeners)
	if err != nil {
		errs = append(errs, err)
	}
	o.Listeners = ls
	a, err := newAuth(c)
	if err != nil {
		errs = append(errs, err)
	} else if a != nil {
		o.Authenticator, o.Authorizer = a, a
	}
	return o, errors.Join(errs...)
}

// brokerListeners maps broker.listeners to the broker's listeners.
func brokerListeners(cfg []config.Listener) ([]broker.Listener, error) {
	var errs []error
	out := make([]broker.Listener, 0, len(cfg))
	for i, l := range cfg {
		bl := broker.Listener{Address: l.Address}
		if l.TLS != nil {
			tc, err := serverTLS(l.TLS)
			if err != nil {
				errs = append(errs, fmt.Errorf("broker.listeners[%d].tls: %w", i, err))
			}
			bl.TLS = tc
		}
		if l.WebSocket != nil {
			bl.WebSocketPath = l.WebSocket.Path
		}
		out = append(out, bl)
	}
	return out, errors.Join(errs...)
}

// reuseRunning returns built (the listeners of the config section cur) with
// each entry whose section equals one in prev (the section in force) replaced
// by that running listener, TLS config included, so that the broker keeps it
// bound on a reload.
func reuseRunning(cur, prev []config.Listener, built, running []broker.Listener) []broker.Listener {
	out := append([]broker.Listener(nil), built...)
	for i, l := range cur {
		for j, p := range prev {
			if j < len(running) && reflect.DeepEqual(l, p) {
				out[i] = running[j]
				break
			}
		}
	}
	return out
}

// newAuth builds users and ACL rules; nil (everyone may connect and do
// anything) only when anonymous clients are allowed and neither is configured.
// With allow_anonymous false and no users, every client is refused.
func newAuth(c *config.Config) (*auth.Auth, error) {
	if c.Broker.AllowAnonymous && len(c.Broker.Users) == 0 && len(c.Broker.ACL) == 0 {
		return nil, nil
	}
	users := make([]auth.User, 0, len(c.Broker.Users))
	for _, u := range c.Broker.Users {
		users = append(users, auth.User{Username: u.Username, PasswordHash: u.PasswordHash})
	}
	rules := make([]auth.Rule, 0, len(c.Broker.ACL))
	for _, r := range c.Broker.ACL {
		access, err := auth.ParseAccess(r.Access)
		if err != nil {
			return nil, fmt.Errorf("broker.acl: %w", err)
		}
		rules = append(rules, auth.Rule{Username: r.Username, Topic: r.Topic, Access: access})
	}
	a, err := auth.New(c.Broker.AllowAnonymous, users, rules)
	if err != nil {
		return nil, fmt.Errorf("broker users/acl: %w", err)
	}
	return a, nil
}

// serverTLS loads a listener's certificate and, when given, the CA that
// client certificates must chain to (then a client certificate is required).
func serverTLS(t *config.ListenerTLS) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if t.ClientCAFile != "" {
		pool, err := loadPool(t.ClientCAFile)
		if err != nil {
			return nil, err
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// clientTLS is the bridge's TLS: the upstream's CA (system roots when none),
// an optional client certificate for mutual TLS, and the server name.
func clientTLS(t *config.BridgeTLS) (*tls.Config, error) {
	if t == nil {
		return nil, nil
	}
	tc := &tls.Config{ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		pool, err := loadPool(t.CAFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificates", file)
	}
	return pool, nil
}

// queueOptions maps bridge.queue to the durable queue's bounds.
func queueOptions(q config.Queue) (offline.QueueOptions, error) {
	ov, err := offline.ParseOverflow(q.Overflow)
	if err != nil {
		return offline.QueueOptions{}, fmt.Errorf("bridge.queue.overflow: %w", err)
	}
	return offline.QueueOptions{MaxMessages: q.MaxMessages, MaxBytes: int64(q.MaxBytes), Overflow: ov}, nil
}

// bridgeOptions maps bridge: and monitor: to bridge.Options (without the
// queue, the local side, the metrics and the logger).
func bridgeOptions(c *config.Config) (bridge.Options, error) {
	b := c.Bridge
	tc, err := clientTLS(b.TLS)
	if err != nil {
		return bridge.Options{}, fmt.Errorf("bridge.tls: %w", err)
	}
	o := bridge.Options{
		Addresses:     b.Addresses,
		ClientID:      b.ClientID,
		Username:      b.Username,
		Password:      b.Password,
		KeepAlive:     offIfZero(b.KeepAlive),
		CleanSession:  b.CleanSession,
		Protocol:      protocolVersion(b.Protocol),
		SessionExpiry: dur(b.SessionExpiry),
		TLS:           tc,
		Reconnect:     bridge.Reconnect{MinDelay: dur(b.Reconnect.MinDelay), MaxDelay: dur(b.Reconnect.MaxDelay)},
		Inflight:      b.Inflight,
		Monitor:       bridge.Monitor{TopicPrefix: c.Monitor.TopicPrefix, MetricsInterval: dur(c.Monitor.MetricsInterval)},
		Version:       version,
		DrainRate:     b.DrainRate,
		MessageTTL:    dur(b.Queue.TTL),
		LiveFirst:     b.LiveFirst,

		CommitDelay:           offIfZero(b.Queue.CommitDelay),
		UnattendedOrigins:     []string{sensorOrigin},
		UnattendedCommitDelay: offIfZero(b.Queue.SensorCommitDelay),
	}
	o.Rules = bridgeRules(c)
	return o, nil
}

// protocolVersion maps bridge.protocol (validated) to the codec's version.
func protocolVersion(s string) packet.Version {
	if s == config.ProtocolMQTT5 {
		return packet.V5
	}
	return packet.V311
}

// offIfZero maps a duration whose 0 in the file turns something off
// (bridge.keepalive, bridge.queue.commit_delay, sensor_commit_delay) to the
// bridge's spelling: negative, since the bridge's 0 means its default.
func offIfZero(d config.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return dur(d)
}

// bridgeRules maps bridge.topics to the bridge's rules, after the remote
// topics' (which must win over a user's rule that matches them too).
func bridgeRules(c *config.Config) []bridge.Rule {
	rules := remoteRules(c)
	for _, t := range c.Bridge.Topics {
		rules = append(rules, bridge.Rule{
			Pattern:      t.Pattern,
			Direction:    direction(t.Direction),
			QoS:          byte(t.QoS),
			LocalPrefix:  t.LocalPrefix,
			RemotePrefix: t.RemotePrefix,
		})
	}
	return rules
}

func direction(s string) bridge.Direction {
	switch s {
	case config.DirectionIn:
		return bridge.In
	case config.DirectionBoth:
		return bridge.Both
	}
	return bridge.Out
}

// sensorSpec maps cfg's sensors[index] to the sensors package's Spec, with
// the data_dir and every sensor's topic (for drivers that follow another).
func sensorSpec(cfg *config.Config, index int) sensors.Spec {
	file, s := cfg.File, cfg.Sensors[index]
	peers := make(map[string]string, len(cfg.Sensors))
	for _, o := range cfg.Sensors {
		peers[o.Name] = o.Topic
	}
	spec := sensors.Spec{
		DataDir:  cfg.Gateway.DataDir,
		Peers:    peers,
		Name:     s.Name,
		Driver:   s.Driver,
		Interval: dur(s.Interval),
		Timeout:  dur(s.Timeout),
		Topic:    s.Topic,
		QoS:      byte(s.QoS),
		Retain:   s.Retain,
		File:     file,
		Line:     s.Line,
		Options: sensors.Options{File: file, Path: fmt.Sprintf("sensors[%d]", index), Driver: s.Driver, Common: sensorCommonKeys,
			Values: map[string]sensors.Option{}},
	}
	for k, v := range s.Options {
		spec.Options.Values[k] = sensors.Option{Value: v.Value, Line: v.Line, Lines: v.Lines}
	}
	if len(s.Process) > 0 {
		spec.Process = map[string]sensors.Process{}
		for q, p := range s.Process {
			spec.Process[q] = sensors.Process{
				Scale: p.Scale, Offset: p.Offset, Round: p.Round,
				Deadband: p.Deadband, MaxInterval: dur(p.MaxInterval), Unit: p.Unit,
			}
		}
	}
	return spec
}

// sensorCommonKeys are the keys of a sensor entry that are not driver
// options, from config.Sensor's yaml tags.
var sensorCommonKeys = yamlKeys(reflect.TypeFor[config.Sensor]())

// yamlKeys returns the keys of struct type t's yaml tags.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// newLogger builds the process logger from log: (level through a LevelVar so
// a reload can change it).
func newLogger(c config.Log, w *os.File, level *slog.LevelVar) *slog.Logger {
	level.Set(parseLevel(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.Format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

func dur(d config.Duration) time.Duration { return time.Duration(d) }

// noneIfZero maps a count where the config file's 0 means none to the
// broker's convention, where 0 means the default and a negative none.
func noneIfZero(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
