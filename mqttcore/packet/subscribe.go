package packet

// flags implements encoder: SUBSCRIBE carries 0b0010 [MQTT-3.8.1-1].
func (*Subscribe) flags() byte { return 0b0010 }

// size implements encoder: it refuses what decodeSubscribe refuses.
func (p *Subscribe) size() (int, error) {
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
	for _, s := range p.Subscriptions {
		if err := checkSubscription(s.Filter, s.QoS, checkUTF8String(s.Filter)); err != nil {
			return 0, err
		}
		n += 2 + len(s.Filter) + 1
	}
	return n, nil
}

// appendBody implements encoder.
func (p *Subscribe) appendBody(dst []byte) []byte {
	dst = appendUint16(dst, p.PacketID)
	for _, s := range p.Subscriptions {
		dst = append(appendString(dst, s.Filter), s.QoS)
	}
	return dst
}

//

// decodeSubscribe decodes a SUBSCRIBE body: packet identifier, then one or
// more (topic filter, requested QoS) pairs [MQTT-3.8.3].
func decodeSubscribe(b []byte) (Packet, error) {
	id, i, err := readUint16(b, 0)
	if err != nil {
		return nil, field("subscribe", "packet identifier", err)
	}
	// [MQTT-2.3.1-1]
	if err := checkID("subscribe", id); err != nil {
		return nil, err
	}
	p := &Subscribe{PacketID: id}
	for i < len(b) {
		// Topic filters are UTF-8 encoded strings [MQTT-3.8.3-1].
		f, j, err := readBinary(b, i)
		if err != nil {
			return nil, field("subscribe", "topic filter", err)
		}
		qos, j, err := readByte(b, j)
		if err != nil {
			return nil, field("subscribe", "requested qos", err)
		}
		filter := string(f)
		if err := checkSubscription(filter, qos, checkUTF8(f)); err != nil {
			return nil, err
		}
		p.Subscriptions = append(p.Subscriptions, Subscription{Filter: filter, QoS: qos})
		i = j
	}
	if len(p.Subscriptions) == 0 {
		// At least one filter [MQTT-3.8.3-3].
		return nil, protocol("subscribe", "no topic filter")
	}
	return p, nil
}

// checkSubscription checks one filter, given the result of its UTF-8 check,
// and its requested QoS byte.
func checkSubscription(filter string, qos byte, utf8Err error) error {
	if utf8Err != nil {
		return field("subscribe", "topic filter", utf8Err)
	}
	if err := checkFilter(filter); err != nil {
		return field("subscribe", "topic filter", err)
	}
	if qos > 2 {
		// Reserved bits 7-2 must be 0 and QoS must be 0, 1 or 2
		// [MQTT-3.8.3-4].
		return malformed("subscribe", "requested qos %d", qos)
	}
	return nil
}
