package bridge

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// ErrServerDisconnect is wrapped, with the packet.ReasonCode, by the error
// that ends a connection the upstream closed with an MQTT 5.0 DISCONNECT.
var ErrServerDisconnect = errors.New("bridge: upstream sent DISCONNECT")

// SessionExpiryNever is the Session Expiry Interval (seconds) that MQTT 5.0
// defines as "never expires": the default of Options.SessionExpiry.
const SessionExpiryNever = math.MaxUint32

// limits are what the upstream's CONNACK allows one connection: MQTT 5.0
// Receive Maximum, Maximum Packet Size, Topic Alias Maximum, Server Keep
// Alive. With MQTT 3.1.1 they are the bridge's own settings.
type limits struct {
	window    int           // QoS 1/2 queue messages in flight at once
	maxPacket int           // the largest packet the upstream accepts; 0: no limit
	aliasMax  uint16        // the upstream's Topic Alias Maximum (the bridge sends no aliases)
	keepAlive time.Duration // the keepalive in force (the upstream's Server Keep Alive wins)
	maxQoS    byte          // the upstream's Maximum QoS: messages above it are sent at it
	retain    bool          // the upstream's Retain Available: false sends every RETAIN flag clear
}

// limitsOf returns the limits of a connection whose CONNACK is ack.
//
// The upstream's Receive Maximum bounds every QoS 1/2 PUBLISH in flight,
// the status messages' too: when it is at most Options.Inflight, one slot
// is kept for them (monitoring on), so the window is Receive Maximum - 1.
func (b *Bridge) limitsOf(ack *packet.Connack) limits {
	l := limits{window: b.o.Inflight, keepAlive: b.o.KeepAlive, maxQoS: 2, retain: true}
	if b.o.Protocol != packet.V5 || ack.Props == nil {
		return l
	}
	p := ack.Props
	if rm := int(p.ReceiveMaximum); rm > 0 {
		if b.o.Monitor.TopicPrefix != "" && rm > 1 && rm <= l.window {
			rm--
		}
		l.window = min(l.window, rm)
	}
	if p.MaximumPacketSize > 0 && uint64(p.MaximumPacketSize) <= math.MaxInt32 {
		l.maxPacket = int(p.MaximumPacketSize)
	}
	l.aliasMax = p.TopicAliasMaximum
	if p.MaximumQoS != nil && *p.MaximumQoS < 2 {
		l.maxQoS = *p.MaximumQoS // [MQTT-3.2.2-11]
	}
	if p.RetainAvailable != nil {
		l.retain = *p.RetainAvailable // [MQTT-3.2.2-14]
	}
	if p.ServerKeepAlive != nil {
		l.keepAlive = time.Duration(*p.ServerKeepAlive) * time.Second // [MQTT-3.2.2-21]
		if l.keepAlive == 0 {
			l.keepAlive = -1 // disabled
		}
	}
	return l
}

// noteWillRefused makes the next CONNECTs' will QoS 0 and not retained when
// an MQTT 5.0 upstream refused the connection because of the will's QoS or
// RETAIN flag (CONNACK 0x9B, 0x9A) [MQTT-3.2.2-12] [MQTT-3.2.2-13]: the
// status will then says "offline" to current subscribers only.
func (b *Bridge) noteWillRefused(code packet.ReasonCode) {
	if (code == packet.QoSNotSupported || code == packet.RetainNotSupported) && b.o.Monitor.TopicPrefix != "" && !b.willPlain.Swap(true) {
		b.log.Warn("bridge: upstream refused the retained QoS 1 will; sending it at QoS 0, not retained", "reason", code.String())
	}
}

// connectProps are the CONNECT properties of an MQTT 5.0 connection: the
// Session Expiry Interval that replaces 3.1.1's clean session flag, and the
// largest packet the bridge accepts (so the upstream drops a larger one
// instead of sending it and losing the connection). No Topic Alias
// Maximum: the upstream sends no aliases.
func (b *Bridge) connectProps() *packet.Properties {
	expiry := b.sessionExpiry()
	p := &packet.Properties{SessionExpiry: &expiry}
	if b.o.MaxPacketSize > 0 && uint64(b.o.MaxPacketSize) <= math.MaxUint32 {
		p.MaximumPacketSize = uint32(b.o.MaxPacketSize)
	}
	return p
}

// sessionExpiry returns the Session Expiry Interval in seconds: 0 with
// CleanSession (the session ends with the connection), otherwise
// Options.SessionExpiry rounded up, SessionExpiryNever by default.
func (b *Bridge) sessionExpiry() uint32 {
	switch e := b.o.SessionExpiry; {
	case b.o.CleanSession:
		return 0
	case e <= 0 || e >= SessionExpiryNever*time.Second:
		return SessionExpiryNever
	default:
		return uint32((e + time.Second - 1) / time.Second)
	}
}

// onServerDisconnect ends the connection the upstream closed with DISCONNECT
// [MQTT-3.14], counting its reason code.
func (b *Bridge) onServerDisconnect(p *packet.Disconnect) error {
	b.stats.serverDisconnect(p.ReasonCode)
	var reason string
	if p.Props != nil {
		reason = p.Props.ReasonString
	}
	b.log.Warn("bridge: upstream sent DISCONNECT", "reason_code", fmt.Sprintf("%#02x", byte(p.ReasonCode)),
		"reason", p.ReasonCode.String(), "reason_string", reason)
	return fmt.Errorf("%w: %w", ErrServerDisconnect, p.ReasonCode)
}

// onRejected handles a PUBACK or PUBREC whose reason code is a failure
// (0x80 and above): the upstream refused the message for good (not
// authorized, quota exceeded, payload format invalid, ...). The QoS flow
// ends there [MQTT-4.3.3]: no PUBREL follows a failed PUBREC. Sending the
// message again would be refused again, so it is deleted from the queue
// and counted in Stats.Dropped as DroppedRejected, like a quarantined entry.
func (c *conn) onRejected(pid uint16, qos byte, ack packet.Ack) {
	b := c.b
	if pid >= ctrlFirst {
		b.ctrl.done(pid)
		b.logLimited(slog.LevelWarn, logRejected, "bridge: upstream refused a status message",
			"reason_code", fmt.Sprintf("%#02x", byte(ack.ReasonCode)), "reason", ack.ReasonCode.String())
		return
	}
	f := b.win.removeRejected(pid, qos)
	if f == nil {
		return
	}
	var reason string
	if ack.Props != nil {
		reason = ack.Props.ReasonString
	}
	b.stats.drop(DroppedRejected)
	b.logLimited(slog.LevelError, logRejected, "bridge: upstream refused a message, dropped",
		"topic", f.msg.Topic, "qos", qos, "reason_code", fmt.Sprintf("%#02x", byte(ack.ReasonCode)),
		"reason", ack.ReasonCode.String(), "reason_string", reason)
	select {
	case b.acks <- f.seq:
	default:
		c.stallWhile(func() { b.acks <- f.seq })
	}
}

// tooLarge reports whether p exceeds the upstream's Maximum Packet Size.
func (c *conn) tooLarge(p *packet.Publish) bool {
	if c.lim.maxPacket == 0 {
		return false
	}
	n := len(p.Topic) + len(p.Payload) + 16 // fixed header, lengths, packet id, property length
	if p.Props != nil {
		n += 64 + len(p.Props.ContentType) + len(p.Props.ResponseTopic) + len(p.Props.CorrelationData)
		for _, u := range p.Props.User {
			n += 5 + len(u.Key) + len(u.Value)
		}
	}
	if n <= c.lim.maxPacket {
		return false
	}
	buf, err := c.ver.Append(nil, p) // near the limit: measure exactly
	return err != nil || len(buf) > c.lim.maxPacket
}

// mayBeTooLarge is a quick check before tooLarge, which decodes the stored
// properties: m's encoded PUBLISH is at most its topic, payload and stored
// properties (a PUBLISH of their own, a little larger than on the wire)
// plus a header and a Message Expiry Interval.
func (c *conn) mayBeTooLarge(m offline.Message) bool {
	return c.lim.maxPacket > 0 && len(m.Topic)+len(m.Payload)+len(m.Props)+32 > c.lim.maxPacket
}

// publish returns the PUBLISH of queue message m for this connection: with
// MQTT 5.0, its stored properties and, when it has a TTL, the Message
// Expiry Interval left (rounded up) at expires.
func (c *conn) publish(m offline.Message, pid uint16, dup bool, expires time.Time) *packet.Publish {
	p := publishOf(m, pid, dup)
	if c.ver != packet.V5 {
		return p
	}
	c.capPublish(p)
	props, err := decodeProps(m.Props)
	if err != nil {
		c.b.logLimited(slog.LevelWarn, logProps, "bridge: stored message properties unreadable, sent without", "topic", m.Topic, "err", err)
	}
	if !expires.IsZero() {
		left := max(time.Until(expires), time.Second)
		if props == nil {
			props = &packet.Properties{}
		}
		props.MessageExpiry = uint32(min((left+time.Second-1)/time.Second, math.MaxUint32))
	}
	p.Props = props
	return p
}

// capPublish lowers p's QoS to the upstream's Maximum QoS and clears its
// RETAIN flag when the upstream has no retained messages: either would make
// it close the connection (0x9B, 0x9A), again on every re-send.
func (c *conn) capPublish(p *packet.Publish) {
	if !c.lim.retain {
		p.Retain = false
	}
	if p.QoS > c.lim.maxQoS {
		p.QoS = c.lim.maxQoS
		if p.QoS == 0 {
			p.PacketID, p.Dup = 0, false
		}
	}
}

// expiresAt is when queue entry e expires, by the monotonic clock; zero
// when it has no TTL.
func expiresAt(e offline.Entry) time.Time {
	if e.TTL <= 0 {
		return time.Time{}
	}
	return time.Now().Add(e.TTL - e.Age)
}

//

// forwardProps returns the properties of a local PUBLISH that travel with it
// upstream: payload format, content type, response topic, correlation data
// and user properties. Message Expiry becomes the queue TTL (see
// messageTTL); topic alias and subscription identifiers belong to one
// connection. Nil when there are none.
func forwardProps(p *packet.Properties) *packet.Properties {
	if p == nil || p.PayloadFormat == 0 && p.ContentType == "" && p.ResponseTopic == "" &&
		p.CorrelationData == nil && len(p.User) == 0 {
		return nil
	}
	return &packet.Properties{
		PayloadFormat: p.PayloadFormat, ContentType: p.ContentType, ResponseTopic: p.ResponseTopic,
		CorrelationData: p.CorrelationData, User: p.User,
	}
}

// propsTopic is the topic of the PUBLISH that carries stored properties.
const propsTopic = "p"

// encodeProps returns the forwarded properties of p as the queue stores them
// (offline.Message.Props): an MQTT 5.0 PUBLISH to propsTopic with no
// payload, so the codec that checks packets from the network checks them
// too when they come back. Nil when there are none.
func encodeProps(p *packet.Properties) []byte {
	fp := forwardProps(p)
	if fp == nil {
		return nil
	}
	b, err := packet.V5.Append(nil, &packet.Publish{Topic: propsTopic, Props: fp})
	if err != nil {
		return nil // the broker decoded them: cannot happen
	}
	return b
}

// decodeProps is the inverse of encodeProps; nil for no properties.
func decodeProps(b []byte) (*packet.Properties, error) {
	if len(b) == 0 {
		return nil, nil
	}
	p, err := packet.V5.ReadPacket(bytes.NewReader(b), len(b))
	if err != nil {
		return nil, err
	}
	pub, ok := p.(*packet.Publish)
	if !ok {
		return nil, fmt.Errorf("%w: stored properties in a %T", ErrUnexpected, p)
	}
	return pub.Props, nil
}

// messageTTL is the queue TTL of a local PUBLISH p: Options.MessageTTL, or
// the publisher's Message Expiry Interval when that is shorter.
func (b *Bridge) messageTTL(p *packet.Publish) time.Duration {
	ttl := b.o.MessageTTL
	if p.Props == nil || p.Props.MessageExpiry == 0 {
		return ttl
	}
	own := time.Duration(p.Props.MessageExpiry) * time.Second
	if ttl == 0 || own < ttl {
		return own
	}
	return ttl
}
