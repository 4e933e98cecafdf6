package broker

import (
	"github.com/edgegw/edgegw/mqttcore/session"
	"github.com/edgegw/edgegw/mqttcore/topic"
)

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
// authConfig and is emptied when SetAuth installs another. A session whose
// every subscription can deliver only readable topics (FilterReader) skips
// the check altogether: sess.allReadable holds the authConfig under which
// that was established, and is reset before a subscription is added. To
// know it without asking about every filter at each change, the session
// counts its filters that FilterReader does not vouch for (sess.unreadable,
// under sess.readAllAuth): a subscription change asks about its own filter
// only, and new rules have every filter asked about again.

// maxReadCache bounds each session's cache of read decisions; a full cache
// is emptied and starts over.
const maxReadCache = 512

// readable reports whether the session's client may receive a message
// published to name that matched one of its current subscriptions, under
// the current rules.
func (s *sess) readable(name string) bool {
	a := s.b.auth.Load()
	if a.authz == nil || s.allReadable.Load() == a {
		return true
	}
	return s.checkRead(a, name)
}

// checkRead reports whether the client may read name under a, from the
// cache. Unlike readable it does not assume that name matches a current
// subscription (a message queued before an UNSUBSCRIBE need not).
func (s *sess) checkRead(a *authConfig, name string) bool {
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

// refreshReadAll records whether every subscription of the session can
// deliver only topics its client may read under the current rules.
func (s *sess) refreshReadAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshReadAllLocked()
}

func (s *sess) refreshReadAllLocked() {
	a := s.b.auth.Load()
	s.readAllAuth, s.unreadable = a, 0
	for f := range s.subs {
		if !s.readsAll(a, f) {
			s.unreadable++
		}
	}
	s.storeAllReadableLocked()
}

// filterChangedLocked records that filter was added to s.subs (delta 1),
// removed from it (-1) or subscribed again (0); s.mu must be held.
func (s *sess) filterChangedLocked(filter string, delta int) {
	a := s.b.auth.Load()
	if s.readAllAuth != a { // counted under other rules
		s.refreshReadAllLocked()
		return
	}
	if delta != 0 && !s.readsAll(a, filter) {
		s.unreadable += delta
	}
	s.storeAllReadableLocked()
}

// readsAll reports whether a vouches that filter delivers only topics the
// session's client may read.
func (s *sess) readsAll(a *authConfig, filter string) bool {
	return a.readAll != nil && a.readAll.CanReadAll(s.id, s.username, topic.FilterOf(filter))
}

func (s *sess) storeAllReadableLocked() {
	if s.readAllAuth.readAll == nil || s.unreadable > 0 {
		s.allReadable.Store(nil)
	} else {
		s.allReadable.Store(s.readAllAuth)
	}
}

// sendLocked hands o, which the session released for sending, to c, unless
// it is a PUBLISH the client may no longer read, or that expired or is too
// large for it (see enqueueOutbound): then the session forgets it as if
// the client had acknowledged it. s.mu must be held.
func (s *sess) sendLocked(c *client, o session.Outbound) {
	if o.Pubrel {
		c.enqueueOutbound(o)
		return
	}
	if s.checkRead(s.b.auth.Load(), o.Topic) && c.enqueueOutbound(o) {
		return
	}
	var m session.Message
	switch o.QoS {
	case 1:
		m, _ = s.st.Ack(o.PacketID)
	case 2:
		s.st.Received(o.PacketID)
		m, _ = s.st.Complete(o.PacketID)
	}
	s.letGoLocked(m)
}
