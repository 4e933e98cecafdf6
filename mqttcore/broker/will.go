package broker

import (
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// publishWill publishes a client's will message after its connection ended
// without DISCONNECT [MQTT-3.1.2-8]: after an I/O error, a protocol error,
// an expired keepalive, or a takeover that ends its session. The will
// keeps its QoS and RETAIN flag [MQTT-3.1.2-14] [MQTT-3.1.2-17], and
// obeys the same rules as a PUBLISH from the client ($SYS, Authorizer); it
// goes to the hook too, which cannot make the client re-send it.
func (b *Broker) publishWill(c *client) {
	if c.willDelay > 0 && c.s.delayWill(c) {
		return
	}
	b.publishWillOf(c.id, c.username, c.will)
}

// publishWillOf publishes will w of client id, logged in as username.
func (b *Broker) publishWillOf(id, username string, w *packet.Publish) {
	if isSysTopic(w.Topic) {
		b.stats.dropSys.Add(1)
		return
	}
	if !b.canPublish(id, username, w.Topic) {
		b.stats.dropDenied.Add(1)
		b.log.Debug("will not authorized", "client", id, "topic", w.Topic)
		return
	}
	b.log.Debug("publishing will", "client", id, "topic", w.Topic)
	b.settle(id, w, b.route(w, nil), nil)
}

// MQTT 5.0 Will Delay Interval: a will whose connection ended while its
// session lives on waits on the session until the interval passes or the
// session ends, whichever is first, and is dropped if a new connection
// resumes the session first [MQTT-3.1.3-9] (3.1.3.2.2). Broker.Run's
// expiry loop publishes the due ones every second.

// delayedWill is a will waiting on its session.
type delayedWill struct {
	id, username string
	p            *packet.Publish
	due          time.Time // zero: the session ended, publish now
}

// delayWill makes c's will wait on session s and reports true, unless the
// session ended with the connection (then the will is published now). A
// session a new connection already resumed drops the will.
func (s *sess) delayWill(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone || s.clean || s.expiry < 0 {
		return false
	}
	if s.conn.Load() != nil {
		return true // [MQTT-3.1.3-9]
	}
	s.will = &delayedWill{id: c.id, username: c.username, p: c.will, due: time.Now().Add(c.willDelay)}
	return true
}

// publishDueWills publishes the delayed wills due at now, and those of
// sessions that ended.
func (b *Broker) publishDueWills(now time.Time) {
	var due []*delayedWill
	take := func(s *sess) {
		s.mu.Lock()
		if w := s.will; w != nil && !now.Before(w.due) {
			due, s.will = append(due, w), nil
		}
		s.mu.Unlock()
	}
	b.mu.Lock()
	for _, s := range b.sessions {
		take(s)
	}
	for _, s := range b.willsOfEnded {
		take(s)
	}
	b.willsOfEnded = b.willsOfEnded[:0]
	b.mu.Unlock()
	for _, w := range due {
		b.publishWillOf(w.id, w.username, w.p)
	}
}
