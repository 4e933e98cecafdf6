package broker

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/session"
	"github.com/edgegw/edgegw/mqttcore/topic"
)

// MQTT 5.0 connections. A client whose CONNECT has protocol level 5 gets a
// v5conn; everything MQTT 5.0 adds to a connection hangs off it, so a
// 3.1.1 connection pays one nil check on the paths it shares. The rules
// cite the OASIS MQTT 5.0 standard's normative statements.

// v5conn is the state of an MQTT 5.0 connection.
type v5conn struct {
	maxOut  int          // the client's Maximum Packet Size; 0: no limit
	recvMax int          // the client's Receive Maximum
	aliases []string     // inbound Topic Aliases: aliases[a-1] is alias a's topic
	quota   atomic.Int32 // QoS 1/2 PUBLISHes received and not yet acknowledged
	expiry0 bool         // the CONNECT's Session Expiry Interval was 0
	capped  *uint32      // the Session Expiry Interval granted, when below the one asked
	auto    string       // the Assigned Client Identifier, if the client sent none
	out     *aliasOut    // outbound Topic Aliases; nil: none (alias.go)
}

// errAuthMethod refuses enhanced authentication, which the broker does
// not implement.
var errAuthMethod = errors.New("broker: authentication method not supported")

// newV5conn reads the connection properties of a level-5 CONNECT.
func (b *Broker) newV5conn(p *packet.Connect) *v5conn {
	v := &v5conn{recvMax: math.MaxUint16, aliases: make([]string, b.opts.TopicAliasMaximum)}
	if pr := p.Props; pr != nil {
		if pr.ReceiveMaximum != 0 {
			v.recvMax = int(pr.ReceiveMaximum)
		}
		v.maxOut = int(pr.MaximumPacketSize)
		v.out = newAliasOut(b.opts.TopicAliasOut, pr.TopicAliasMaximum, v.maxOut)
	}
	v.expiry0 = p.Props == nil || p.Props.SessionExpiry == nil || *p.Props.SessionExpiry == 0
	return v
}

// sessionExpiry returns the time a session outlives its connection for a
// Session Expiry Interval of secs: -1 when it ends with the connection
// (0 seconds), 0 for the broker's SessionExpiry (0xFFFFFFFF, or anything
// at or above that cap), else the interval. capped reports a cap, which
// the CONNACK announces (3.2.2.3.2).
func (b *Broker) sessionExpiry(secs uint32) (d time.Duration, capped bool) {
	limit := b.opts.SessionExpiry
	switch {
	case secs == 0:
		return -1, false
	case secs == math.MaxUint32:
		return 0, limit > 0
	}
	d = time.Duration(secs) * time.Second
	if limit > 0 && d >= limit {
		return 0, d > limit
	}
	return d, false
}

// connackItem is the CONNACK accepting c: for MQTT 5.0 with what the
// broker allows and supports, which the client must respect.
func (c *client) connackItem(present bool) outItem {
	if c.v5 == nil {
		return outItem{n: 4, ctl: connackBytes(present)}
	}
	o := &c.b.opts
	yes := true
	props := &packet.Properties{
		ReceiveMaximum:     uint16(o.ReceiveMaximum),    // (3.2.2.3.3)
		MaximumPacketSize:  uint32(o.MaxPacketSize),     // (3.2.2.3.6)
		TopicAliasMaximum:  uint16(o.TopicAliasMaximum), // (3.2.2.3.8)
		SharedSubAvailable: &yes,                        // (3.2.2.3.13), see shared.go
		AssignedClientID:   c.v5.auto,                   // [MQTT-3.2.2-16]
		SessionExpiry:      c.v5.capped,                 // (3.2.2.3.2)
	}
	// Wildcard subscriptions and Subscription Identifiers work: Wildcard
	// Subscription Available, Subscription Identifiers Available and Retain
	// Available are left absent, which means 1 (3.2.2.3.11, 3.2.2.3.12).
	b, err := packet.V5.Append(nil, &packet.Connack{SessionPresent: present, Props: props})
	if err != nil { // cannot happen: withDefaults keeps the values in range
		c.b.log.Error("encode CONNACK", "client", c.id, "err", err)
		c.abort(err)
	}
	return outItem{b: b}
}

// refuseV5 writes a CONNACK refusing an MQTT 5.0 client with rc (session
// present 0 [MQTT-3.2.2-6]); the caller then closes the connection
// [MQTT-3.2.2-7].
func (c *client) refuseV5(rc packet.ReasonCode) {
	c.b.stats.refused.Add(1)
	code := packet.RefusedNotAuthorized
	b, err := packet.V5.Append(nil, &packet.Connack{ReturnCode: code, ReasonCode: rc})
	if err == nil {
		_ = c.write(b)
	}
}

// inboundV5 applies the MQTT 5.0 rules of an inbound PUBLISH that need the
// connection's state: Topic Aliases and the Subscription Identifier ban.
// On return p has its topic name and no Topic Alias, since an alias is
// only valid on its own connection (3.3.2.3.4).
func (c *client) inboundV5(p *packet.Publish) error {
	if err := p.CheckTopicAlias(uint16(len(c.v5.aliases))); err != nil {
		return fmt.Errorf("broker: %w", err) // [MQTT-3.3.2-9], DISCONNECT 0x94 [MQTT-3.3.2-10]
	}
	pr := p.Props
	if pr == nil {
		return nil
	}
	if len(pr.SubscriptionIDs) > 0 {
		return fmt.Errorf("broker: publish with a subscription identifier: %w", packet.ErrProtocol) // [MQTT-3.3.4-6]
	}
	if a := pr.TopicAlias; a != 0 {
		if p.Topic == "" {
			p.Topic = c.v5.aliases[a-1]
			if p.Topic == "" {
				// An alias never set on this connection (3.3.4).
				return fmt.Errorf("broker: publish with unknown topic alias %d: %w", a, packet.ErrProtocol)
			}
		} else {
			c.v5.aliases[a-1] = p.Topic
		}
		pr.TopicAlias = 0
	}
	return nil
}

// onPublishV5 is onPublish for an MQTT 5.0 client: a refused message is
// answered with reason code 0x87 (and its QoS 2 identifier is not kept,
// since the client ends that exchange (4.3.3)); a QoS 1/2 message
// beyond the broker's Receive Maximum ends the connection with DISCONNECT
// 0x93 [MQTT-3.3.4-7].
func (c *client) onPublishV5(p *packet.Publish) error {
	if !c.admitPublish(p) {
		if p.QoS > 0 {
			c.ackReady(ackTypeOf(p.QoS), p.PacketID, packet.NotAuthorized) // (3.4.2.1)
		}
		return nil
	}
	if p.QoS == 2 && !c.s.receiveQoS2(p.PacketID) {
		c.ackReady(packet.PUBREC, p.PacketID, packet.Success)
		return nil
	}
	if p.QoS > 0 {
		if n := c.v5.quota.Add(1); int(n) > c.b.opts.ReceiveMaximum {
			return fmt.Errorf("broker: %d unacknowledged QoS 1/2 publishes, receive maximum %d: %w: %w",
				n, c.b.opts.ReceiveMaximum, packet.ReceiveMaximumExceeded, packet.ErrProtocol)
		}
	}
	c.acknowledge(p, true, c.b.route(p, c.s))
	return nil
}

// ackTypeOf is the acknowledgement of a PUBLISH of QoS 1 or 2.
func ackTypeOf(qos byte) packet.Type {
	if qos == 2 {
		return packet.PUBREC
	}
	return packet.PUBACK
}

// onPubrelV5 answers a PUBREL: PUBCOMP 0x92 for an unknown identifier
// (3.7.2.1); a known one gives back its place under Receive Maximum.
func (c *client) onPubrelV5(id uint16) {
	if !c.s.releaseQoS2(id) {
		c.ackReady(packet.PUBCOMP, id, packet.PacketIdentifierNotFound)
		return
	}
	c.v5.release()
	c.ackReady(packet.PUBCOMP, id, packet.Success)
}

// release gives back one place under the broker's Receive Maximum.
func (v *v5conn) release() {
	if v.quota.Add(-1) < 0 { // an exchange begun on an earlier connection
		v.quota.Add(1)
	}
}

// onDisconnectV5 handles a client's DISCONNECT: reason code 0x04 asks for
// the will to be published all the same (3.14.2.1), and a Session Expiry
// Interval replaces the CONNECT's — except that a session that was to end
// with the connection cannot be made to outlive it (3.14.2.2.2).
func (c *client) onDisconnectV5(p *packet.Disconnect) error {
	if p.Props != nil && p.Props.SessionExpiry != nil {
		secs := *p.Props.SessionExpiry
		if c.v5.expiry0 && secs != 0 {
			return fmt.Errorf("broker: disconnect sets a session expiry the connect did not: %w", packet.ErrProtocol)
		}
		d, _ := c.b.sessionExpiry(secs)
		c.s.setExpiry(d)
	}
	c.graceful = p.ReasonCode != packet.DisconnectWithWillMessage // [MQTT-3.14.4-3]
	return errDisconnect
}

// disconnectReason is the reason code the broker closes an MQTT 5.0
// connection with after err, and whether it sends one: on a malformed
// packet or a protocol error (4.13), which packet.Reason maps to the
// precise code [MQTT-4.13.1-1].
func disconnectReason(err error) (packet.ReasonCode, bool) {
	switch {
	case errors.Is(err, ErrTopicLimit):
		return packet.TopicNameInvalid, true
	case isProtocolError(err):
		return packet.Reason(err), true
	}
	return 0, false
}

// sendFinal queues b as the last packet of the connection, waits until the
// writer has written it (or failed to), and refuses any packet after it
// [MQTT-3.14.4-1]: a server DISCONNECT.
func (c *client) sendFinal(b []byte) {
	c.outMu.Lock()
	if c.outClosed || c.final {
		c.outMu.Unlock()
		return
	}
	start := c.pushLocked(outItem{b: b})
	c.final = true
	c.outMu.Unlock()
	if start {
		go c.writeLoop()
	}
	c.wg.Wait()
}

// closeV5 sends the DISCONNECT that ends an MQTT 5.0 connection after err,
// when one is due.
func (c *client) closeV5(err error) {
	rc, ok := disconnectReason(err)
	if !ok || c.closed.Load() {
		return
	}
	b, encErr := packet.V5.Append(nil, &packet.Disconnect{ReasonCode: rc})
	if encErr == nil {
		c.sendFinal(b)
	}
}

// forwardProps returns the properties of a message to forward to MQTT 5.0
// subscribers: all of them unchanged [MQTT-3.3.2-4] [MQTT-3.3.2-15]
// [MQTT-3.3.2-16] [MQTT-3.3.2-17] [MQTT-3.3.2-20], but not a Topic Alias
// (valid on one connection only) or Subscription Identifiers (the
// subscriber's own), and not a will's Will Delay Interval.
func forwardProps(p *packet.Properties) *packet.Properties {
	if p == nil || p.TopicAlias == 0 && len(p.SubscriptionIDs) == 0 && p.WillDelay == 0 {
		return p
	}
	q := *p
	q.TopicAlias, q.SubscriptionIDs, q.WillDelay = 0, nil, 0
	return &q
}

// expiresAt returns when a message with properties p, received at now,
// expires; zero for never.
func expiresAt(p *packet.Properties, now time.Time) time.Time {
	if p == nil || p.MessageExpiry == 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(p.MessageExpiry) * time.Second)
}

// outboundProps returns the properties of a queued message o as sent at
// now: its Message Expiry Interval counted down by the time it waited
// [MQTT-3.3.2-6]. expired reports a message whose interval has passed,
// which must not be delivered [MQTT-3.3.2-5].
func outboundProps(o session.Outbound, now time.Time) (p *packet.Properties, expired bool) {
	if o.Expires.IsZero() {
		return o.Props, false
	}
	left := o.Expires.Sub(now)
	if left <= 0 {
		return nil, true
	}
	q := *o.Props
	q.MessageExpiry = uint32((left + time.Second - 1) / time.Second)
	return &q, false
}

// tooLarge reports whether an encoded packet exceeds the client's Maximum
// Packet Size: the broker does not send it [MQTT-3.1.2-24] and behaves as
// if it had [MQTT-3.1.2-25].
func (c *client) tooLarge(b []byte) bool {
	return c.v5 != nil && c.v5.maxOut > 0 && len(b) > c.v5.maxOut
}

// ackItem returns an acknowledgement with reason code rc: the short form
// for Success (the only one 3.1.1 has), else the MQTT 5.0 form without
// properties (3.4.2.2).
func ackItem(t packet.Type, id uint16, rc packet.ReasonCode) outItem {
	it := ctlItem(t, id)
	if rc == packet.Success {
		return it
	}
	return outItem{b: []byte{it.ctl[0], 3, byte(id >> 8), byte(id), byte(rc)}}
}

// publishV5 handles an MQTT 5.0 PUBLISH.
func (c *client) publishV5(p *packet.Publish) error {
	if err := c.inboundV5(p); err != nil {
		return err
	}
	if err := c.b.checkTopic(p.Topic); err != nil {
		return err
	}
	return c.onPublishV5(p)
}

// startV5 sets up an MQTT 5.0 connection from its CONNECT, or refuses it:
// enhanced authentication is not implemented, so a CONNECT with an
// Authentication Method gets CONNACK 0x8C and the connection is closed
// [MQTT-4.12.0-1].
func (c *client) startV5(p *packet.Connect) bool {
	if p.Props != nil && p.Props.AuthMethod != "" {
		c.b.log.Debug("connection refused: enhanced authentication", "client", p.ClientID, "method", p.Props.AuthMethod)
		c.refuseV5(packet.BadAuthenticationMethod)
		return false
	}
	c.v5 = c.b.newV5conn(p)
	c.isV5.Store(true)
	var secs uint32
	if p.Props != nil && p.Props.SessionExpiry != nil {
		secs = *p.Props.SessionExpiry
	}
	d, capped := c.b.sessionExpiry(secs)
	c.expiry = d
	if capped {
		granted := uint32(c.b.opts.SessionExpiry / time.Second)
		c.v5.capped = &granted
	}
	return true
}

// persistent reports whether the client's session outlives its
// connection: CleanSession 0 in 3.1.1, a Session Expiry Interval above 0
// in 5.0 [MQTT-3.1.2-23].
func (c *client) persistent() bool {
	if c.v5 != nil {
		return c.expiry >= 0
	}
	return !c.clean
}

// setExpiry sets how long the session outlives its connection (see
// Broker.sessionExpiry).
func (s *sess) setExpiry(d time.Duration) {
	s.mu.Lock()
	s.expiry = d
	s.mu.Unlock()
}

// endsWithConn reports whether the session ends with its connection
// although it was persistent: a Session Expiry Interval of 0 given on
// resumption or in the DISCONNECT.
func (s *sess) endsWithConn() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expiry < 0
}

// windowFor is the inflight window of c's session: Options.MaxInflight,
// or the MQTT 5.0 client's Receive Maximum if lower [MQTT-3.3.4-9].
func (b *Broker) windowFor(c *client) session.Options {
	o := b.sessionOptions()
	if c.v5 != nil {
		o.MaxInflight = min(o.MaxInflight, c.v5.recvMax)
	}
	return o
}

// Subscription options, kept with the granted QoS in the byte the trie
// and the session hold per subscription (and persist).
const (
	subQoSMask    byte = 0x03 // the granted QoS
	subNoLocal    byte = 0x04 // MQTT 5.0 No Local
	subRAP        byte = 0x08 // MQTT 5.0 Retain As Published
	subOptionBits      = subQoSMask | subNoLocal | subRAP
)

// subOptions packs a granted QoS and a subscription's options.
func subOptions(qos byte, sub packet.Subscription) byte {
	if sub.NoLocal {
		qos |= subNoLocal
	}
	if sub.RetainAsPublished {
		qos |= subRAP
	}
	return qos
}

// mergeOptions combines two subscriptions of one session that match one
// message [MQTT-3.3.4-2]: the higher QoS; not to the publisher only if
// neither wants it; the RETAIN flag kept if either asks.
func mergeOptions(a, b byte) byte {
	return max(a&subQoSMask, b&subQoSMask) | a&b&subNoLocal | (a|b)&subRAP
}

// retainBit is the RETAIN flag to set in a shared encoding made without it.
func retainBit(retain bool) byte {
	if retain {
		return 0b0001
	}
	return 0
}

// disconnectV5 ends an MQTT 5.0 connection from another goroutine: it
// queues a DISCONNECT with rc, after which nothing is sent, and the reader
// stops handling the client's packets; the writer closes the connection
// with cause once the DISCONNECT is written (or its write failed).
func (c *client) disconnectV5(rc packet.ReasonCode, cause error) {
	b, err := packet.V5.Append(nil, &packet.Disconnect{ReasonCode: rc})
	c.outMu.Lock()
	if c.outClosed || c.final || err != nil {
		c.outMu.Unlock()
		c.abort(cause)
		return
	}
	start := c.pushLocked(outItem{b: b})
	c.final, c.closeWith = true, cause
	c.outMu.Unlock()
	c.closed.Store(true)
	c.wakeReader()
	if start {
		go c.writeLoop()
	}
}

// closeIfFinal, called by a writer that emptied the queue, closes the
// connection after the DISCONNECT of disconnectV5.
func (c *client) closeIfFinal() {
	c.outMu.Lock()
	cause := c.closeWith
	c.outMu.Unlock()
	if cause != nil {
		c.abort(cause)
	}
}

// shutdown ends the connection because the broker stops: an MQTT 5.0
// client is told so with DISCONNECT 0x8B first (4.13.2).
func (c *client) shutdown(cause error) {
	if c.isV5.Load() {
		c.disconnectV5(packet.ServerShuttingDown, cause)
		return
	}
	c.abort(cause)
}

// onPubrecRefused handles a PUBREC with a reason code of 0x80 or more from
// an MQTT 5.0 client: the QoS 2 exchange ends there, without PUBREL, and
// the message leaves the inflight window (4.3.3, 4.9).
func (s *sess) onPubrecRefused(id uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.Received(id) {
		return
	}
	if m, ok := s.st.Complete(id); ok {
		s.changedLocked(m)
	}
}

// withSubIDs returns p with the Subscription Identifiers of the filters in
// ids that match name [MQTT-3.3.4-3], or p itself when none does. A
// message of the shared subscription shared ("" for none) carries that
// subscription's identifier only; the others, the identifiers of the
// session's own subscriptions.
func withSubIDs(p *packet.Properties, ids map[string]uint32, name, shared string) *packet.Properties {
	var found []uint32
	for f, id := range ids {
		if shared != "" && f == shared || shared == "" && !topic.IsShared(f) && topic.Match(f, name) {
			found = append(found, id)
		}
	}
	if found == nil {
		return p
	}
	slices.Sort(found)
	q := &packet.Properties{}
	if p != nil {
		*q = *p
	}
	q.SubscriptionIDs = found
	return q
}

// deliverOwn sends a QoS 0 message whose properties are the subscriber's
// own (Subscription Identifiers), encoded for it alone.
func (s *sess) deliverOwn(d *delivery, retain bool, props *packet.Properties) {
	c := s.conn.Load()
	if c == nil {
		s.b.stats.dropOffline.Add(1)
		return
	}
	c.enqueueOutbound(session.Outbound{Message: session.Message{Topic: d.p.Topic, Payload: d.p.Payload,
		Retain: retain, Props: props, Expires: d.expires}})
}

// setSubID records filter's Subscription Identifier; 0 removes it.
func (s *sess) setSubID(filter string, id uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m map[string]uint32
	if old := s.subIDs.Load(); old != nil {
		if old2, had := (*old)[filter]; had && old2 == id {
			return
		}
		m = maps.Clone(*old)
	}
	if id == 0 {
		delete(m, filter)
	} else {
		if m == nil {
			m = make(map[string]uint32, 1)
		}
		m[filter] = id
	}
	if len(m) == 0 {
		s.subIDs.Store(nil)
		return
	}
	s.subIDs.Store(&m)
}
