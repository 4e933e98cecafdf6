package auth

import (
	"strings"

	"github.com/edgegw/edgegw/mqttcore/topic"
)

// CanPublish reports whether the client may publish to the topic name.
// clientID is the client identifier and username the name the client
// authenticated with (empty for anonymous clients). The first rule that
// applies to the client and whose topic matches name decides; Write and
// ReadWrite allow. With no rules every publish is allowed; with rules, an
// invalid name or no matching rule is refused.
func (a *Auth) CanPublish(clientID, username, name string) bool {
	return len(a.rules) == 0 || a.nameAccess(clientID, username, name).canWrite()
}

// CanRead reports whether the client may receive a message published to
// the topic name (see [Auth.CanPublish] for the arguments): the first rule
// that applies to the client and whose topic matches name decides; Read
// and ReadWrite allow. The broker asks it for every message it delivers,
// so a subscription never delivers what the current rules do not let the
// client read. With no rules every name is readable; with rules, an
// invalid name or no matching rule is refused.
func (a *Auth) CanRead(clientID, username, name string) bool {
	return len(a.rules) == 0 || a.nameAccess(clientID, username, name).canRead()
}

// CanSubscribe reports whether the client may subscribe to filter (see
// [Auth.CanPublish] for the arguments). As in Mosquitto, a subscription is
// granted when some topic name it matches could be readable, and every
// message is then checked with [Auth.CanRead] when it is delivered: a deny
// rule for "sensors/relay/set" does not refuse "sensors/#". It is refused
// when no name it matches is readable: for every Read or ReadWrite rule
// that overlaps the filter, one earlier rule that refuses reading (Write or
// Deny) covers the names the two share. (Names shared with a read rule but
// refused only by several earlier rules together still grant the
// subscription, which then delivers nothing.) With no rules every
// subscription is allowed; with rules, an invalid filter or no overlapping
// read rule is refused.
func (a *Auth) CanSubscribe(clientID, username, filter string) bool {
	return a.decideFilter(clientID, username, filter, func(i int, t string, access Access) (ok, done bool) {
		if !access.canRead() || !overlaps(t, filter) {
			return false, false
		}
		if a.shadowed(i, clientID, username, intersect(t, filter)) {
			return false, false
		}
		return true, true
	})
}

// CanReadAll reports whether the client may read every topic name filter
// matches (see [Auth.CanPublish] for the arguments): a Read or ReadWrite
// rule covers the whole filter and no earlier rule that refuses reading
// (Write or Deny) overlaps it. The broker uses it to skip the check of
// each delivery for subscriptions that can only deliver readable names.
// With no rules it is true; with rules, an invalid filter is false.
func (a *Auth) CanReadAll(clientID, username, filter string) bool {
	return a.decideFilter(clientID, username, filter, func(_ int, t string, access Access) (ok, done bool) {
		switch {
		case topic.Covers(t, filter):
			return access.canRead(), true
		case !access.canRead() && overlaps(t, filter):
			return false, true
		}
		return false, false
	})
}

//

// rule is a validated Rule.
type rule struct {
	username  string
	topic     string
	access    Access
	templated bool // topic contains %c or %u
}

// topicFor returns the rule's topic for the client, with %c and %u
// substituted, and whether the rule applies to the client at all.
func (r *rule) topicFor(clientID, username string) (string, bool) {
	if r.username != "" && r.username != username {
		return "", false
	}
	if !r.templated {
		return r.topic, true
	}
	return expand(r.topic, clientID, username)
}

// expand substitutes %c and %u in tmpl. It fails when a substituted value
// could widen the filter: empty (which would create an empty level),
// containing a wildcard, a level separator or U+0000, or making the
// topic begin with '$' when tmpl did not.
func expand(tmpl, clientID, username string) (string, bool) {
	var b strings.Builder
	rest := tmpl
	for {
		i := strings.IndexByte(rest, '%')
		if i < 0 || i == len(rest)-1 {
			b.WriteString(rest)
			break
		}
		var v string
		switch rest[i+1] {
		case 'c':
			v = clientID
		case 'u':
			v = username
		default: // a lone '%' is literal
			b.WriteString(rest[:i+2])
			rest = rest[i+2:]
			continue
		}
		if v == "" || strings.ContainsAny(v, "+#/\x00") {
			return "", false
		}
		b.WriteString(rest[:i])
		b.WriteString(v)
		rest = rest[i+2:]
	}
	out := b.String()
	if strings.HasPrefix(out, "$") && !strings.HasPrefix(tmpl, "$") {
		return "", false
	}
	return out, true
}

// decideFilter walks the rules that apply to the client, in order, with
// their topics expanded, until decide says it is done, and returns its
// answer: true with no rules; false for an invalid filter or when no rule
// decides.
func (a *Auth) decideFilter(clientID, username, filter string, decide func(i int, t string, access Access) (ok, done bool)) bool {
	if len(a.rules) == 0 {
		return true
	}
	if topic.ValidateFilter(filter) != nil {
		return false
	}
	for i := range a.rules {
		t, applies := a.rules[i].topicFor(clientID, username)
		if !applies {
			continue
		}
		if ok, done := decide(i, t, a.rules[i].access); done {
			return ok
		}
	}
	return false
}

// nameAccess returns the access of the first rule that applies to the
// client and matches the topic name, or 0 (no access) for none or an
// invalid name.
func (a *Auth) nameAccess(clientID, username, name string) Access {
	if topic.ValidateName(name) != nil {
		return 0
	}
	for i := range a.rules {
		t, ok := a.rules[i].topicFor(clientID, username)
		if ok && topic.Match(t, name) {
			return a.rules[i].access
		}
	}
	return 0
}

// shadowed reports whether one of the rules before rules[i] that refuse
// reading covers every name of the filter shared.
func (a *Auth) shadowed(i int, clientID, username, shared string) bool {
	for j := range a.rules[:i] {
		r := &a.rules[j]
		if r.access.canRead() {
			continue
		}
		if t, ok := r.topicFor(clientID, username); ok && topic.Covers(t, shared) {
			return true
		}
	}
	return false
}

// intersect returns the filter matching exactly the names both filters a
// and b match, which must overlap (see overlaps).
func intersect(a, b string) string {
	var out strings.Builder
	for {
		x, xrest, xmore := strings.Cut(a, "/")
		y, yrest, ymore := strings.Cut(b, "/")
		switch {
		case x == "#":
			return out.String() + b
		case y == "#":
			return out.String() + a
		case x == "+":
			out.WriteString(y)
		default:
			out.WriteString(x)
		}
		if !xmore || !ymore { // the other one's rest is "#": it includes the parent level
			return out.String()
		}
		out.WriteByte('/')
		a, b = xrest, yrest
	}
}

// overlaps reports whether some topic name matches both filters a and b,
// honouring the '$' rule [MQTT-4.7.2-1]. Both must be valid filters.
func overlaps(a, b string) bool {
	if wildFirst(a) && dollar(b) || wildFirst(b) && dollar(a) {
		return false
	}
	for first := true; ; first = false {
		x, xrest, xmore := strings.Cut(a, "/")
		y, yrest, ymore := strings.Cut(b, "/")
		switch {
		case x == "#" || y == "#":
			return true
		case x != "+" && y != "+" && x != y:
			return false
		case first && (x == "" || y == "") && (!xmore || !ymore):
			// The only shared name would be the empty string, which is
			// not a topic name: "+" and "/#".
			return false
		case !xmore && !ymore:
			return true
		case !xmore: // "a" and "a/#" share the name "a"
			return yrest == "#"
		case !ymore:
			return xrest == "#"
		}
		a, b = xrest, yrest
	}
}

// wildFirst reports whether filter's first level is a wildcard.
func wildFirst(filter string) bool {
	return filter != "" && (filter[0] == '+' || filter[0] == '#')
}

// dollar reports whether filter's first level is a literal beginning with '$'.
func dollar(filter string) bool { return filter != "" && filter[0] == '$' }
