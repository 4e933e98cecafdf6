package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// connect handles the first packet of a connection, whose read returned p
// and err. It reports whether the client is now connected; if not, the
// connection is to be closed (after a refusing CONNACK, when one is due).
func (c *client) connect(ctx context.Context, fr *frameReader, p packet.Packet, err error) bool {
	cp, _ := p.(*packet.Connect)
	switch {
	case errors.Is(err, packet.RefusedProtocolVersion) && cp != nil:
		c.b.log.Debug("unsupported protocol level", "level", cp.ProtocolLevel, "err", err)
		c.refuse(packet.RefusedProtocolVersion) // [MQTT-3.1.2-2]
		return false
	case err != nil:
		if isProtocolError(err) {
			c.b.stats.protoErr.Add(1)
		}
		c.b.log.Debug("connection closed before CONNECT", "remote", c.conn.RemoteAddr().String(), "err", err)
		return false
	case cp == nil:
		c.b.stats.protoErr.Add(1)
		c.b.log.Debug("first packet is not CONNECT", "type", p.Type().String()) // [MQTT-3.1.0-1]
		return false
	}
	if cp.Version() == packet.V5 && !c.startV5(cp) {
		return false
	}
	if cp.WillFlag {
		if err := c.b.checkTopic(cp.WillTopic); err != nil {
			c.b.stats.protoErr.Add(1)
			c.b.log.Debug("will topic over limits: connection closed", "client", cp.ClientID, "err", err)
			return false
		}
	}
	if code := c.b.admit(ctx, c, cp); code != packet.Accepted {
		c.b.log.Debug("connection refused", "client", cp.ClientID, "err", code)
		c.refuse(code)
		return false
	}
	c.b.pend.remove(rawConn(c.conn))
	fr.v = cp.Version()
	_ = fr.setKeepAlive(time.Duration(cp.KeepAlive) * 1500 * time.Millisecond)
	c.b.log.Debug("client connected", "client", c.id, "clean", c.clean, "keepalive", cp.KeepAlive)
	return true
}

// refuse writes a CONNACK with a refusal code (session present 0
// [MQTT-3.2.2-4]); the caller then closes the connection [MQTT-3.2.2-5].
func (c *client) refuse(code packet.ConnackCode) {
	if c.v5 != nil {
		c.refuseV5(code.ReasonCode())
		return
	}
	c.b.stats.refused.Add(1)
	b, err := packet.Append(nil, &packet.Connack{ReturnCode: code})
	if err == nil {
		_ = c.write(b)
	}
}

// admit decides on a CONNECT. On acceptance the client has a session, a
// CONNACK and any re-sent messages are queued, and it returns Accepted. A
// place under MaxConnections is taken before authentication (which may
// wait for bcrypt) and given back if the client is refused, so that
// CONNECTs admitted at once cannot together exceed it.
func (b *Broker) admit(ctx context.Context, c *client, p *packet.Connect) (code packet.ConnackCode) {
	if limit := int64(b.opts.MaxConnections); limit > 0 {
		if b.places.Add(1) > limit {
			b.places.Add(-1)
			return packet.RefusedServerUnavailable
		}
		defer func() {
			if code != packet.Accepted {
				b.places.Add(-1)
			} else {
				c.placed = true
			}
		}()
	}
	id := p.ClientID
	if code := checkClientID(id); code != packet.Accepted {
		return code
	}
	if id == "" {
		if !p.CleanSession && c.v5 == nil {
			return packet.RefusedIdentifierRejected // [MQTT-3.1.3-8]
		}
		id = newClientID() // [MQTT-3.1.3-6]
		if c.v5 != nil {
			c.v5.auto = id // [MQTT-3.2.2-16]
		}
	}
	if code := b.authenticate(ctx, remoteIP(c.conn.RemoteAddr()), p); code != packet.Accepted {
		if code == packet.RefusedBadUsernamePassword || code == packet.RefusedNotAuthorized {
			b.stats.authFailed.Add(1)
		}
		return code
	}
	c.id, c.username, c.clean = id, p.Username, p.CleanSession
	if p.WillFlag {
		c.will = &packet.Publish{Topic: p.WillTopic, Payload: p.WillMessage, QoS: p.WillQoS, Retain: p.WillRetain,
			Props: forwardProps(p.WillProps)}
		if p.WillProps != nil {
			c.willDelay = time.Duration(p.WillProps.WillDelay) * time.Second
		}
	}
	s, present, ok := b.takeSession(c)
	if !ok {
		b.stats.sessionsRefused.Add(1)
		b.log.Warn("persistent session refused: max_sessions reached", "client", id)
		return packet.RefusedServerUnavailable
	}
	s.attach(c, present)
	b.stats.clientConnected()
	return packet.Accepted
}

// takeSession finds or creates the client's session. A client already
// connected with the same id is disconnected [MQTT-3.1.4-2]; like
// Mosquitto, its will is published unless a persistent session continues.
// A clean session discards any previous session [MQTT-3.1.2-6]; a
// persistent one resumes it, and present reports that [MQTT-3.2.2-2].
//
// A persistent session belongs to the username that created it (anonymous
// clients share the owner ""): a client with the same id and another
// username does not resume it — neither its subscriptions nor the messages
// queued for it — but gets a new session with session present 0, as if the
// id were new; the old session is discarded. The standard lets the server
// decide what identifies a session's owner [MQTT-3.1.3-1]; the identifier
// alone is not a secret, so taking it must not hand over another user's
// messages.
//
// A new persistent session beyond Options.MaxSessions is refused (ok
// false, nothing changed): existing sessions keep their messages, and
// offline ones make room as they expire (Options.SessionExpiry).
func (b *Broker) takeSession(c *client) (s *sess, present, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.sessions[c.id]
	persistent := c.persistent()
	resume := old != nil && !old.clean && !c.clean && old.username == c.username // [MQTT-3.1.2-5]
	replaced := old != nil && !old.clean
	if persistent && !resume && !replaced && b.npersist >= b.opts.MaxSessions {
		return nil, false, false
	}
	if old != nil {
		same := old.username == c.username
		if oc := old.claim.Load(); oc != nil && oc != c {
			oc.kick(old.clean || c.clean || !same)
		}
		if resume {
			old.claim.Store(c)
			old.setExpiry(c.expiry)
			return old, true, true
		}
		b.discardLocked(old) // [MQTT-3.1.2-4]
	}
	s = newSess(b, c.id, c.username, !persistent)
	s.expiry = c.expiry
	s.claim.Store(c)
	b.addSessionLocked(s)
	return s, false, true
}

// addSessionLocked records a new session; b.mu must be held.
func (b *Broker) addSessionLocked(s *sess) {
	b.sessions[s.id] = s
	if !s.clean {
		b.npersist++
	}
}

// detach separates a closing client from its session; a clean session
// ends with its connection [MQTT-3.1.2-6].
func (b *Broker) detach(c *client) {
	s := c.s
	if !s.detach(c) {
		return // taken over: the session belongs to the new connection
	}
	b.handOn(s)
	if !s.clean && !s.endsWithConn() {
		s.markDirty()
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sessions[s.id] == s {
		b.discardLocked(s)
	}
}

// discardLocked ends session s: it is removed from the broker and from
// the subscription trie, and from the session store if it was there.
func (b *Broker) discardLocked(s *sess) {
	if b.sessions[s.id] == s {
		delete(b.sessions, s.id)
		if !s.clean {
			b.npersist--
		}
	}
	for _, f := range s.end() {
		b.removeSub(f, s)
	}
	if !s.clean {
		s.markDirty() // the store forgets it
	}
}

// MaxClientIDLength is the longest client identifier the broker accepts,
// in bytes: persistent sessions are stored under it, and stores bound their
// keys (bbolt: 32 KiB). The protocol lets a server refuse any identifier
// longer than 23 bytes [MQTT-3.1.3-5].
const MaxClientIDLength = 1024

// checkClientID refuses, with CONNACK 0x02 [MQTT-3.1.3-9], identifiers
// longer than MaxClientIDLength and identifiers beginning with '$': that
// prefix is reserved for in-process clients (the origin names given to
// [Broker.Publish], such as the bridge's "$bridge"), so that a network
// client cannot pass for one and have its messages treated as the
// bridge's or a sensor's.
func checkClientID(id string) packet.ConnackCode {
	if len(id) > MaxClientIDLength || strings.HasPrefix(id, "$") {
		return packet.RefusedIdentifierRejected
	}
	return packet.Accepted
}

// newClientID returns an identifier for a client that sent none.
func newClientID() string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	return "auto-" + hex.EncodeToString(r[:])
}
