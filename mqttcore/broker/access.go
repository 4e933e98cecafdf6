package broker

import "github.com/edgegw/edgegw/mqttcore/session"

// Read access is checked when a message is delivered, not only when a
// client subscribes: every message a client receives — live, retained,
// queued while it was away, re-sent after it reconnected, a will — is
// checked with Authorizer.CanRead for its concrete topic under the rules in
// force at that moment ([Broker.SetAuth] replaces them). So a deny rule
// inside a wider grant filters single topics out of a wildcard
// subscription instead of refusing it, and revoking read access stops
// subscriptions made before the change, persistent ones too.
//
// Decisions are cached per session and topic; the cache belongs to one
// authConfig and is emptied when SetAuth installs another.

// maxReadCache bounds each session's cache of read decisions; a full cache
// is emptied and starts over.
const maxReadCache = 512

// readable reports whether the session's client may receive a message
// published to name under the current rules.
func (s *sess) readable(name string) bool {
	a := s.b.auth.Load()
	if a.authz == nil {
		return true
	}
	s.rmu.Lock()
	if s.rauth != a || len(s.rcache) >= maxReadCache {
		s.rauth, s.rlast = a, ""
		clear(s.rcache)
	}
	// A fan-out hands every subscriber the same string: comparing it with
	// the last name asked is cheaper than hashing it.
	ok, hit := s.rlastOK, name == s.rlast && s.rlast != ""
	if !hit {
		ok, hit = s.rcache[name]
	}
	if !hit {
		ok = a.authz.CanRead(s.id, s.username, name)
		if s.rcache == nil {
			s.rcache = make(map[string]bool)
		}
		s.rcache[name] = ok
	}
	s.rlast, s.rlastOK = name, ok
	s.rmu.Unlock()
	if !ok {
		s.b.stats.readDenied.Add(1)
	}
	return ok
}

// sendLocked hands o, which the session released for sending, to c, unless
// it is a PUBLISH the client may no longer read: then the session forgets
// it as if the client had acknowledged it. s.mu must be held.
func (s *sess) sendLocked(c *client, o session.Outbound) {
	if o.Pubrel || s.readable(o.Topic) {
		c.enqueueOutbound(o)
		return
	}
	switch o.QoS {
	case 1:
		s.st.Ack(o.PacketID)
	case 2:
		s.st.Received(o.PacketID)
		s.st.Complete(o.PacketID)
	}
	if !s.clean {
		s.markDirty()
	}
}
