package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

func (p *parser) validateBroker(b *Broker) {
	seen := map[string]int{}
	for i, l := range b.Listeners {
		path := fmt.Sprintf("broker.listeners[%d]", i)
		p.validateListener(path, l)
		if j, dup := seen[l.Address]; dup && l.Address != "" {
			p.failAt(path+".address", "%q is already listeners[%d]'s address", l.Address, j)
		} else {
			seen[l.Address] = i
		}
	}
	p.validateUsers(b.Users)
	for i, r := range b.ACL {
		path := fmt.Sprintf("broker.acl[%d]", i)
		if p.required(path+".topic", r.Topic) {
			if msg := topicProblem(r.Topic, true); msg != "" {
				p.failAt(path+".topic", "%q: %s", r.Topic, msg)
			}
		}
		if p.required(path+".access", r.Access) {
			p.oneOf(path+".access", r.Access, "read", "write", "readwrite", "deny")
		}
	}
	p.intRange("broker.limits.max_connections", b.Limits.MaxConnections, 1, 1_000_000)
	if s := b.Limits.MaxPacketSize; s < 64 || s > 256<<20 {
		p.failAt("broker.limits.max_packet_size", "%v is out of range 64 to 256MiB", s)
	}
	p.intRange("broker.limits.max_inflight", b.Limits.MaxInflight, 1, 65535)
	p.intRange("broker.limits.max_queued_messages", b.Limits.MaxQueuedMessages, 1, 10_000_000)
	if s := b.Limits.MaxQueuedBytes; s < 1<<10 || s > 1<<30 {
		p.failAt("broker.limits.max_queued_bytes", "%v is out of range 1KiB to 1GiB", s)
	}
	p.intRange("broker.limits.max_topic_levels", b.Limits.MaxTopicLevels, 1, 65535)
	p.intRange("broker.limits.max_topic_length", b.Limits.MaxTopicLength, 1, 65535)
	p.intRange("broker.limits.max_sessions", b.Limits.MaxSessions, 1, 1_000_000)
	p.atLeast("broker.limits.session_expiry", b.Limits.SessionExpiry, 0)
	p.intRange("broker.limits.receive_maximum", b.Limits.ReceiveMaximum, 1, 65535)
	p.intRange("broker.limits.topic_alias_maximum", b.Limits.TopicAliasMaximum, 0, 65535)
	p.intRange("broker.limits.topic_alias_out", b.Limits.TopicAliasOut, 0, 65535)
	p.intRange("broker.limits.max_retained_messages", b.Limits.MaxRetainedMessages, 1, 10_000_000)
	if s := b.Limits.MaxRetainedBytes; s < 1<<10 || s > 1<<30 {
		p.failAt("broker.limits.max_retained_bytes", "%v is out of range 1KiB to 1GiB", s)
	}
	p.atLeast("broker.sys_interval", b.SysInterval, Duration(time.Second))
}

func (p *parser) validateListener(path string, l Listener) {
	if p.required(path+".address", l.Address) {
		if msg := listenAddressProblem(l.Address); msg != "" {
			p.failAt(path+".address", "%s", msg)
		}
	}
	if t := l.TLS; t != nil {
		p.validateTLSFiles(path+".tls", t)
	}
	if ws := l.WebSocket; ws != nil && !strings.HasPrefix(ws.Path, "/") {
		p.failAt(path+".websocket.path", "%q must start with /", ws.Path)
	}
}

// validateTLSFiles checks a tls section of a server (a broker listener,
// http): the certificate and key are required, and every file set exists.
func (p *parser) validateTLSFiles(path string, t *ListenerTLS) {
	p.required(path+".cert_file", t.CertFile)
	p.required(path+".key_file", t.KeyFile)
	p.checkFile(path+".cert_file", t.CertFile)
	p.checkFile(path+".key_file", t.KeyFile)
	p.checkFile(path+".client_ca_file", t.ClientCAFile)
}

func (p *parser) validateUsers(users []User) {
	seen := map[string]int{}
	for i, u := range users {
		path := fmt.Sprintf("broker.users[%d]", i)
		if p.required(path+".username", u.Username) {
			if j, dup := seen[u.Username]; dup {
				p.failAt(path+".username", "%q is already users[%d]", u.Username, j)
			}
			seen[u.Username] = i
		}
		hashPath := path + ".password_hash"
		if p.has(path + ".password_hash_file") {
			hashPath = path + ".password_hash_file"
		}
		switch {
		case !p.has(path+".password_hash") && !p.has(path+".password_hash_file"):
			p.failAt(path, "missing password_hash or password_hash_file")
		case u.PasswordHash == "":
			p.failAt(hashPath, "must not be empty") // skipped when the file failed: already reported
		default:
			if msg := bcryptProblem(u.PasswordHash); msg != "" {
				p.failAt(hashPath, "%s", msg)
			}
		}
	}
}

//

// listenAddressProblem describes what is wrong with a listener address
// (host:port; empty host = every interface; port 0 = any), or returns "".
func listenAddressProblem(addr string) string {
	const want = "want host:port, like 127.0.0.1:1883, [::1]:1883 or :1883"
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("bad address %q: %s", addr, want)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("bad port %q in %q: want 0 to 65535", port, addr)
	}
	if host != "" && net.ParseIP(host) == nil && !isHostname(host) {
		return fmt.Sprintf("bad host %q in %q: %s", host, addr, want)
	}
	return ""
}

// isHostname reports whether s is a DNS name: dot-separated labels of
// letters, digits and '-'.
func isHostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
	}
	return true
}
