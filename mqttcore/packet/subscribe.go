package packet

import "strings"

// Subscription option bits of MQTT 5.0 (3.8.3.1); bits 0-1 are the QoS.
const (
	subNoLocal           = 0b0000_0100
	subRetainAsPublished = 0b0000_1000
	subRetainHandling    = 0b0011_0000
	subReserved          = 0b1100_0000
)

// flags implements encoder: SUBSCRIBE carries 0b0010 [MQTT-3.8.1-1].
func (*Subscribe) flags() byte { return 0b0010 }

// size implements encoder: it refuses what decodeSubscribe refuses.
func (p *Subscribe) size(v Version) (int, error) {
	if p == nil {
		return 0, protocol("subscribe", "nil packet")
	}
	if err := checkID("subscribe", p.PacketID); err != nil {
		return 0, err
	}
	if len(p.Subscriptions) == 0 {
		return 0, protocol("subscribe", "no topic filter") // [MQTT-3.8.3-3]
	}
	n := 2
	if v >= V5 {
		m, err := propsSize("subscribe", in(SUBSCRIBE), p.Props)
		if err != nil {
			return 0, err
		}
		n += propsFieldSize(m)
	}
	for _, s := range p.Subscriptions {
		if err := checkSubscription(s.Filter, s.options(v), v, checkUTF8String(s.Filter)); err != nil {
			return 0, err
		}
		n += 2 + len(s.Filter) + 1
	}
	return n, nil
}

// appendBody implements encoder.
func (p *Subscribe) appendBody(v Version, dst []byte) []byte {
	dst = appendUint16(dst, p.PacketID)
	if v >= V5 {
		dst = appendProps(dst, propsLen(p.Props), p.Props)
	}
	for _, s := range p.Subscriptions {
		dst = append(appendString(dst, s.Filter), s.options(v))
	}
	return dst
}

//

// options returns the requested QoS byte, in MQTT 5.0 the subscription
// options byte. A QoS or Retain Handling out of range spills into other
// bits, which checkSubscription reports.
func (s *Subscription) options(v Version) byte {
	if v < V5 {
		return s.QoS
	}
	o := s.QoS | s.RetainHandling<<4
	if s.NoLocal {
		o |= subNoLocal
	}
	if s.RetainAsPublished {
		o |= subRetainAsPublished
	}
	return o
}

// decodeSubscribe decodes a SUBSCRIBE body: packet identifier, in MQTT 5.0
// the properties, then one or more (topic filter, requested QoS or
// subscription options) pairs [MQTT-3.8.3].
func decodeSubscribe(v Version, b []byte) (Packet, error) {
	id, i, err := readUint16(b, 0)
	if err != nil {
		return nil, field("subscribe", "packet identifier", err)
	}
	// [MQTT-2.3.1-1]
	if err := checkID("subscribe", id); err != nil {
		return nil, err
	}
	p := &Subscribe{PacketID: id}
	if v >= V5 {
		if p.Props, i, err = readProps("subscribe", in(SUBSCRIBE), b, i); err != nil {
			return nil, err
		}
	}
	for i < len(b) {
		// Topic filters are UTF-8 encoded strings [MQTT-3.8.3-1].
		f, j, err := readBinary(b, i)
		if err != nil {
			return nil, field("subscribe", "topic filter", err)
		}
		o, j, err := readByte(b, j)
		if err != nil {
			return nil, field("subscribe", "requested qos", err)
		}
		filter := string(f)
		if err := checkSubscription(filter, o, v, checkUTF8(f)); err != nil {
			return nil, err
		}
		s := Subscription{Filter: filter, QoS: o & 3}
		if v >= V5 {
			s.NoLocal = o&subNoLocal != 0
			s.RetainAsPublished = o&subRetainAsPublished != 0
			s.RetainHandling = (o & subRetainHandling) >> 4
		}
		p.Subscriptions = append(p.Subscriptions, s)
		i = j
	}
	if len(p.Subscriptions) == 0 {
		// At least one filter [MQTT-3.8.3-3]; [MQTT-3.8.3-2] in 5.0.
		return nil, protocol("subscribe", "no topic filter")
	}
	return p, nil
}

// checkSubscription checks one filter, given the result of its UTF-8 check,
// and its requested QoS (MQTT 5.0: subscription options) byte o.
func checkSubscription(filter string, o byte, v Version, utf8Err error) error {
	if utf8Err != nil {
		return field("subscribe", "topic filter", utf8Err)
	}
	if err := checkFilter(filter); err != nil {
		return field("subscribe", "topic filter", err)
	}
	if v < V5 {
		if o > 2 {
			// Reserved bits 7-2 must be 0 and QoS must be 0, 1 or 2
			// [MQTT-3.8.3-4].
			return malformed("subscribe", "requested qos %d", o)
		}
		return nil
	}
	switch {
	case o&subReserved != 0:
		// [MQTT-3.8.3-5]
		return malformed("subscribe", "reserved subscription option bits %#08b", o)
	case o&3 == 3:
		// QoS 3 is a Malformed Packet (3.8.3.1).
		return malformed("subscribe", "requested qos 3")
	case o&subRetainHandling == subRetainHandling:
		// Retain Handling 3 is a Protocol Error (3.8.3.1).
		return protocol("subscribe", "retain handling 3")
	case o&subNoLocal != 0 && strings.HasPrefix(filter, "$share/"):
		// No Local on a shared subscription [MQTT-3.8.3-4].
		return protocol("subscribe", "no local on shared subscription %q", filter)
	}
	return nil
}
