package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func (p *parser) validateBridge(b *Bridge) {
	p.validateAddresses(b)
	if p.has("bridge.client_id") { // the default is gateway.id, checked already
		p.required("bridge.client_id", b.ClientID)
	}
	if b.Password != "" && b.Username == "" {
		p.failAt("bridge.password", "a password needs a username [MQTT-3.1.2-22]")
	}
	switch k := time.Duration(b.KeepAlive); {
	case k%time.Second != 0:
		p.failAt("bridge.keepalive", "%v is not whole seconds", b.KeepAlive)
	case k < 0 || k > 65535*time.Second:
		p.failAt("bridge.keepalive", "%v is out of range 0s (off) to 65535s (%v)", b.KeepAlive, Duration(65535*time.Second))
	}
	p.validateProtocol(b)
	p.intRange("bridge.inflight", b.Inflight, 1, 65000) // the bridge derives packet ids from queue sequence numbers modulo 65000
	p.validateBridgeTLS(b)
	p.atLeast("bridge.reconnect.min_delay", b.Reconnect.MinDelay, Duration(time.Millisecond))
	if b.Reconnect.MaxDelay < b.Reconnect.MinDelay {
		p.failAt("bridge.reconnect.max_delay", "%v is less than min_delay %v", b.Reconnect.MaxDelay, b.Reconnect.MinDelay)
	}
	for i, t := range b.Topics {
		p.validateBridgeTopic(fmt.Sprintf("bridge.topics[%d]", i), t)
	}
	if b.Queue.MaxMessages < 1 {
		p.failAt("bridge.queue.max_messages", "%d is too small: at least 1", b.Queue.MaxMessages)
	}
	if b.Queue.MaxBytes < 1<<10 {
		p.failAt("bridge.queue.max_bytes", "%v is too small: at least 1KiB", b.Queue.MaxBytes)
	}
	p.oneOf("bridge.queue.overflow", b.Queue.Overflow, OverflowDropOldest, OverflowDropNew)
	if b.Queue.CommitDelay < 0 || b.Queue.CommitDelay > Duration(time.Minute) {
		p.failAt("bridge.queue.commit_delay", "%v out of range (0 to 1m; 0 writes every message ahead)", b.Queue.CommitDelay)
	}
	if b.Queue.SensorCommitDelay < 0 || b.Queue.SensorCommitDelay > Duration(time.Hour) {
		p.failAt("bridge.queue.sensor_commit_delay", "%v out of range (0 to 1h; 0 writes every reading ahead)", b.Queue.SensorCommitDelay)
	}
	if b.Queue.TTL < 0 {
		p.failAt("bridge.queue.ttl", "%v is negative: 0 keeps messages until acknowledged", b.Queue.TTL)
	}
	p.finite("bridge.drain_rate", b.DrainRate, 0)
}

// Values of bridge.protocol.
const (
	ProtocolMQTT311 = "3.1.1"
	ProtocolMQTT5   = "5"
)

// maxSessionExpiry is the longest finite MQTT 5.0 Session Expiry Interval
// (0xFFFFFFFF means never).
const maxSessionExpiry = Duration((1<<32 - 2) * time.Second)

func (p *parser) validateProtocol(b *Bridge) {
	p.oneOf("bridge.protocol", b.Protocol, ProtocolMQTT311, ProtocolMQTT5)
	if !p.has("bridge.session_expiry") {
		return
	}
	e := time.Duration(b.SessionExpiry)
	switch {
	case b.Protocol != ProtocolMQTT5:
		p.failAt("bridge.session_expiry", "only with protocol \"5\" (MQTT 3.1.1 has no session expiry)")
	case b.CleanSession:
		p.failAt("bridge.session_expiry", "set together with clean_session: a clean session ends with the connection")
	case e%time.Second != 0:
		p.failAt("bridge.session_expiry", "%v is not whole seconds", b.SessionExpiry)
	case e < time.Second || b.SessionExpiry > maxSessionExpiry:
		p.failAt("bridge.session_expiry", "%v is out of range 1s to %v (unset: never expires)", b.SessionExpiry, maxSessionExpiry)
	}
}

// validateAddresses checks and normalizes b.Addresses.
func (p *parser) validateAddresses(b *Bridge) {
	if len(b.Addresses) == 0 {
		p.failAt("bridge.addresses", "missing: at least one upstream address is required")
	}
	for i, a := range b.Addresses {
		norm, err := normalizeAddress(a)
		if err != "" {
			p.failAt(fmt.Sprintf("bridge.addresses[%d]", i), "%s", err)
			continue
		}
		b.Addresses[i] = norm
	}
}

func (p *parser) validateBridgeTLS(b *Bridge) {
	t := b.TLS
	if t == nil {
		return
	}
	usesTLS := false
	for _, a := range b.Addresses {
		if u, err := url.Parse(a); err == nil && bridgeSchemes[u.Scheme] == "tls" {
			usesTLS = true
		}
	}
	if !usesTLS {
		p.failAt("bridge.tls", "set, but no address uses tls:// or mqtts://")
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		missing := "bridge.tls.key_file"
		if t.CertFile == "" {
			missing = "bridge.tls.cert_file"
		}
		p.failAt(missing, "missing: cert_file and key_file go together (mutual TLS)")
	}
	p.checkFile("bridge.tls.ca_file", t.CAFile)
	p.checkFile("bridge.tls.cert_file", t.CertFile)
	p.checkFile("bridge.tls.key_file", t.KeyFile)
}

func (p *parser) validateBridgeTopic(path string, t BridgeTopic) {
	if p.required(path+".pattern", t.Pattern) {
		if msg := topicProblem(t.Pattern, true); msg != "" {
			p.failAt(path+".pattern", "%q: %s", t.Pattern, msg)
		}
	}
	p.oneOf(path+".direction", t.Direction, DirectionOut, DirectionIn, DirectionBoth)
	p.qos(path+".qos", t.QoS)
	if msg := prefixProblem(t.LocalPrefix); msg != "" {
		p.failAt(path+".local_prefix", "%q: %s", t.LocalPrefix, msg)
	}
	if msg := prefixProblem(t.RemotePrefix); msg != "" {
		p.failAt(path+".remote_prefix", "%q: %s", t.RemotePrefix, msg)
	}
}

//

// redactAddress hides the password of an address written with credentials
// (scheme://user:password@host), which must not reach a terminal or a log.
func redactAddress(a string) string {
	prefix, rest := "", a
	if i := strings.Index(a, "://"); i >= 0 {
		prefix, rest = a[:i+3], a[i+3:]
	}
	end := len(rest)
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		end = j
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return a
	}
	user := rest[:at]
	if k := strings.Index(user, ":"); k >= 0 {
		user = user[:k+1] + "xxxxx"
	}
	return prefix + user + rest[at:]
}

// bridgeSchemes maps the accepted address schemes to the normalized ones.
var bridgeSchemes = map[string]string{"tcp": "tcp", "mqtt": "tcp", "tls": "tls", "mqtts": "tls", "ssl": "tls"}

// normalizeAddress turns an upstream address into "tcp://host:port" or
// "tls://host:port", or describes what is wrong with it.
func normalizeAddress(addr string) (string, string) {
	const want = "want tcp://host:port or tls://host:port (or mqtt://, mqtts://)"
	a := redactAddress(addr) // what the messages show
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", fmt.Sprintf("bad address %q: %s", a, want)
	}
	scheme, ok := bridgeSchemes[u.Scheme]
	switch {
	case !ok:
		return "", fmt.Sprintf("bad address %q: unknown scheme %q, %s", a, u.Scheme, want)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Sprintf("bad address %q: only scheme, host and port are allowed (credentials go in username/password)", a)
	case u.Hostname() == "":
		return "", fmt.Sprintf("bad address %q: missing host, %s", a, want)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"tcp": "1883", "tls": "8883"}[scheme]
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Sprintf("bad port %q in %q: want 1 to 65535", port, a)
	}
	return scheme + "://" + net.JoinHostPort(u.Hostname(), port), ""
}
