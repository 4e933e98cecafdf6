package packet

import (
	"fmt"
	"unicode/utf8"
)

// Fixed header flag bits of a PUBLISH [MQTT-3.3.1].
const (
	publishRetain = 0b0001
	publishQoS    = 0b0110
	publishDup    = 0b1000
)

// flags implements encoder.
func (p *Publish) flags() byte {
	f := p.QoS << 1
	if p.Dup {
		f |= publishDup
	}
	if p.Retain {
		f |= publishRetain
	}
	return f
}

// size implements encoder: it refuses what decodePublish refuses.
func (p *Publish) size(v Version) (int, error) {
	if p == nil {
		return 0, protocol("publish", "nil packet")
	}
	if p.QoS > 2 {
		// [MQTT-3.3.1-4]
		return 0, malformed("publish", "qos %d", p.QoS)
	}
	if err := checkPublishFlags(p.flags()); err != nil {
		return 0, err
	}
	if !(v >= V5 && p.Topic == "" && p.Props != nil && p.Props.TopicAlias != 0) {
		if err := checkPublishTopic(p.Topic); err != nil {
			return 0, field("publish", "topic name", err)
		}
	}
	n := 2 + len(p.Topic) + len(p.Payload)
	if v >= V5 {
		m, err := propsSize("publish", in(PUBLISH), p.Props)
		if err != nil {
			return 0, err
		}
		n += propsFieldSize(m)
	}
	if p.QoS > 0 {
		if err := checkID("publish", p.PacketID); err != nil {
			return 0, err
		}
		n += 2
	} else if p.PacketID != 0 {
		// A QoS 0 PUBLISH has no packet identifier [MQTT-2.3.1-5].
		return 0, protocol("publish", "packet identifier %d with qos 0", p.PacketID)
	}
	return n, nil
}

// appendBody implements encoder.
func (p *Publish) appendBody(v Version, dst []byte) []byte {
	dst = appendString(dst, p.Topic)
	if p.QoS > 0 {
		dst = appendUint16(dst, p.PacketID)
	}
	if v >= V5 {
		dst = appendProps(dst, propsLen(p.Props), p.Props)
	}
	return append(dst, p.Payload...)
}

// CheckTopicAlias checks an MQTT 5.0 PUBLISH's Topic Alias against the
// receiver's Topic Alias Maximum (0 when it accepts none): an alias above it
// is a Protocol Error the receiver answers with DISCONNECT 0x94
// [MQTT-3.3.2-9] [MQTT-3.3.2-10]. The error wraps [TopicAliasInvalid] and
// [ErrProtocol]. Decode already refuses an alias of 0 [MQTT-3.3.2-8] and
// an empty topic name without an alias; whether an alias without a topic
// name is known is the connection's state, not the codec's.
func (p *Publish) CheckTopicAlias(maximum uint16) error {
	if p.Props != nil && p.Props.TopicAlias > maximum {
		return fmt.Errorf("packet: publish: topic alias %d above the maximum %d: %w: %w",
			p.Props.TopicAlias, maximum, TopicAliasInvalid, ErrProtocol)
	}
	return nil
}

// CheckPayloadFormat checks an MQTT 5.0 PUBLISH whose Payload Format
// Indicator says UTF-8: its payload must then be well-formed UTF-8, which
// the receiver may check and answer with PUBACK, PUBREC or DISCONNECT 0x99
// (3.3.2.3.2). The error wraps [PayloadFormatInvalid] and [ErrProtocol]. The codec does
// not check it while decoding: it costs a pass over the payload.
func (p *Publish) CheckPayloadFormat() error {
	if p.Props == nil || p.Props.PayloadFormat != 1 || utf8.Valid(p.Payload) {
		return nil
	}
	return fmt.Errorf("packet: publish: payload is not UTF-8: %w: %w", PayloadFormatInvalid, ErrProtocol)
}

//

// checkPublishTopic checks a topic name for the encoder: UTF-8 of at most
// 65,535 bytes, not empty, no wildcard.
func checkPublishTopic(topic string) error {
	if len(topic) <= 0xffff && plainTopic(topic) {
		return nil
	}
	if err := checkUTF8String(topic); err != nil {
		return err
	}
	return checkTopicName(topic)
}

// checkPublishFlags checks the fixed header flags of a PUBLISH.
func checkPublishFlags(flags byte) error {
	qos := (flags & publishQoS) >> 1
	if flags > 0b1111 {
		return malformed("publish", "fixed header flags %#b out of range", flags)
	}
	if qos == 3 {
		// Both QoS bits set [MQTT-3.3.1-4].
		return malformed("publish", "qos 3")
	}
	if qos == 0 && flags&publishDup != 0 {
		// DUP must be 0 for QoS 0 [MQTT-3.3.1-2].
		return malformed("publish", "dup flag with qos 0")
	}
	return nil
}

// decodePublish decodes a PUBLISH body; checkHeader has checked flags.
// topics, if not nil, interns the topic name.
func decodePublish(v Version, flags byte, b []byte, topics *topicCache) (Packet, error) {
	p := &Publish{
		Dup:    flags&publishDup != 0,
		QoS:    (flags & publishQoS) >> 1,
		Retain: flags&publishRetain != 0,
	}
	// The topic name comes first and is a UTF-8 encoded string [MQTT-3.3.2-1].
	topic, i, err := readBinary(b, 0)
	if err != nil {
		return nil, field("publish", "topic name", err)
	}
	// In MQTT 5.0 the topic name may be empty when a Topic Alias
	// stands for it (3.3.2.1), checked after the properties.
	if len(topic) > 0 || v < V5 {
		if p.Topic, err = topics.name(topic); err != nil {
			return nil, field("publish", "topic name", err)
		}
	}
	if p.QoS > 0 {
		// Only QoS 1 and 2 carry a packet identifier, never 0 [MQTT-2.3.1-1].
		if p.PacketID, i, err = readUint16(b, i); err != nil {
			return nil, field("publish", "packet identifier", err)
		}
		if err := checkID("publish", p.PacketID); err != nil {
			return nil, err
		}
	}
	if v >= V5 {
		if i, err = p.decodeProps(b, i); err != nil {
			return nil, err
		}
	}
	// The payload is the rest of the packet and may be empty [MQTT-3.3.3].
	p.Payload = cloneBytes(b[i:])
	return p, nil
}

// decodeProps decodes the properties of an MQTT 5.0 PUBLISH at b[i:] and
// checks that an empty topic name comes with a Topic Alias.
func (p *Publish) decodeProps(b []byte, i int) (int, error) {
	var err error
	if p.Props, i, err = readProps("publish", in(PUBLISH), b, i); err != nil {
		return i, err
	}
	if p.Topic == "" && (p.Props == nil || p.Props.TopicAlias == 0) {
		// Not empty [MQTT-4.7.3-1] unless an alias replaces it.
		return i, field("publish", "topic name", checkTopicName(""))
	}
	return i, nil
}

// topicCache interns the topic names one connection publishes to, which
// mostly repeat: a hit saves the allocation and the checks, since only
// valid names are stored. It holds at most topicCacheEntries names of at
// most topicCacheNameLen bytes and starts over when full.
type topicCache struct{ m map[string]string }

// Topic cache bounds: at most 16 KiB of names per connection.
const (
	topicCacheEntries = 64
	topicCacheNameLen = 256
)

// name checks the topic name b and returns it as a string. A nil cache
// just checks and converts.
func (c *topicCache) name(b []byte) (string, error) {
	if c != nil {
		if s, ok := c.m[string(b)]; ok {
			return s, nil
		}
	}
	if !plainTopic(b) {
		if err := checkUTF8(b); err != nil {
			return "", err
		}
		// Not empty [MQTT-4.7.3-1], no wildcard [MQTT-3.3.2-2].
		if err := checkTopicName(string(b)); err != nil {
			return "", err
		}
	}
	s := string(b)
	if c != nil && len(s) <= topicCacheNameLen {
		if c.m == nil {
			c.m = make(map[string]string, topicCacheEntries)
		} else if len(c.m) >= topicCacheEntries {
			clear(c.m)
		}
		c.m[s] = s
	}
	return s, nil
}
