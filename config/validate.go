package config

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// validate checks the decoded, defaulted config and records every problem.
// Values that could not be decoded were already reported and are skipped
// (failAt), so one mistake gives one error.
func (p *parser) validate(c *Config) {
	p.validateGateway(c.Gateway)
	p.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	p.oneOf("log.format", c.Log.Format, "text", "json")
	p.validateBroker(&c.Broker)
	if c.Bridge != nil {
		p.validateBridge(c.Bridge)
	}
	if p.has("monitor.topic_prefix") { // the default derives from gateway.id, checked already
		p.topicPrefix("monitor.topic_prefix", c.Monitor.TopicPrefix)
	}
	p.atLeast("monitor.metrics_interval", c.Monitor.MetricsInterval, Duration(time.Second))
	p.topicPrefix("homeassistant.prefix", c.HomeAssistant.Prefix)
	p.validateSensors(c.Sensors)
	if c.HTTP != nil {
		p.validateHTTP(c.HTTP, c.Broker.Users)
	}
	p.validateRemote(&c.Remote, c.Bridge != nil)
}

//

var gatewayIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func (p *parser) validateGateway(g Gateway) {
	if p.required("gateway.id", g.ID) && !gatewayIDRE.MatchString(g.ID) {
		p.failAt("gateway.id", "%q: use letters, digits, '.', '_' and '-' only (it goes into client ids and topics)", g.ID)
	}
	p.required("gateway.data_dir", g.DataDir)
}

// required records an error when a required string is empty: "missing" when
// the key is absent, "empty" when it is there. It reports whether s is set.
func (p *parser) required(path, s string) bool {
	switch {
	case s != "":
		return true
	case p.has(path):
		p.failAt(path, "must not be empty")
	default:
		p.failAt(path, "missing required key")
	}
	return false
}

// oneOf records an error unless s is one of allowed.
func (p *parser) oneOf(path, s string, allowed ...string) bool {
	if slices.Contains(allowed, s) {
		return true
	}
	p.failAt(path, "%q is not one of %s", s, strings.Join(allowed, ", "))
	return false
}

// intRange records an error unless lo ≤ n ≤ hi.
func (p *parser) intRange(path string, n, lo, hi int) {
	if n < lo || n > hi {
		p.failAt(path, "%d is out of range %d to %d", n, lo, hi)
	}
}

// qos records an error unless q is 0, 1 or 2.
func (p *parser) qos(path string, q int) {
	if q < 0 || q > 2 {
		p.failAt(path, "%d is not a QoS: want 0, 1 or 2", q)
	}
}

// atLeast records an error unless d ≥ lo.
func (p *parser) atLeast(path string, d, lo Duration) {
	switch {
	case d < 0 && lo == 0:
		p.failAt(path, "%v must not be negative", d)
	case d < lo:
		p.failAt(path, "%v is too short: at least %v", d, lo)
	}
}

// finite records an error unless f is a finite number ≥ lo.
func (p *parser) finite(path string, f, lo float64) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		p.failAt(path, "want a finite number, got %v", f)
	case f < lo:
		p.failAt(path, "%v is less than %v", f, lo)
	}
}

// topicPrefix checks a topic name that others append "/…" to: no
// wildcards, no trailing '/'.
func (p *parser) topicPrefix(path, s string) {
	if msg := topicProblem(s, false); msg != "" {
		p.failAt(path, "%q: %s", s, msg)
	} else if strings.HasSuffix(s, "/") {
		p.failAt(path, "%q: must not end with '/' (levels are added after it)", s)
	}
}

// topicProblem describes what is wrong with topic name (or filter) s, or
// returns "" [MQTT-4.7.1-1] [MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-4.7.3-1]
// [MQTT-4.7.3-2] [MQTT-4.7.3-3].
func topicProblem(s string, filter bool) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > 65535:
		return "longer than 65535 bytes"
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case strings.ContainsRune(s, 0):
		return "contains a NUL character"
	case !filter && strings.ContainsAny(s, "+#"):
		return "must not contain the wildcards + or #"
	}
	if !filter {
		return ""
	}
	levels := strings.Split(s, "/")
	for i, l := range levels {
		switch {
		case strings.Contains(l, "#") && (l != "#" || i != len(levels)-1):
			return "# must be a whole level, and the last"
		case strings.Contains(l, "+") && l != "+":
			return "+ must be a whole level"
		}
	}
	return ""
}

// prefixProblem describes what is wrong with a topic prefix that may be
// empty (bridge local_prefix, remote_prefix), or returns "".
func prefixProblem(s string) string {
	if s == "" {
		return ""
	}
	return topicProblem(s, false)
}

// bcryptProblem describes why h is not a bcrypt hash, or returns "". It
// checks the form only: "$2a$", "$2b$" or "$2y$", a two-digit cost 04–31,
// "$", then 53 characters of bcrypt's base64 (60 in all).
func bcryptProblem(h string) string {
	const want = "want 60 characters like $2a$10$ followed by 53 of [./A-Za-z0-9]"
	if len(h) < 7 || h[0] != '$' || h[1] != '2' || !strings.Contains("aby", h[2:3]) || h[3] != '$' {
		return "not a bcrypt hash: it must start with $2a$, $2b$ or $2y$"
	}
	if cost, err := strconv.Atoi(h[4:6]); err != nil || cost < 4 || cost > 31 || h[6] != '$' {
		return "not a bcrypt hash: bad cost " + strconv.Quote(h[4:7]) + " (want two digits, 04 to 31, then $)"
	}
	if len(h) != 60 {
		return "not a bcrypt hash: " + strconv.Itoa(len(h)) + " characters, " + want
	}
	for _, c := range []byte(h[7:]) {
		if !(c == '.' || c == '/' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "not a bcrypt hash: bad character " + strconv.QuoteRune(rune(c)) + ", " + want
		}
	}
	return ""
}
