package packet

// flags implements encoder: UNSUBSCRIBE carries 0b0010 [MQTT-3.10.1-1].
func (*Unsubscribe) flags() byte { return 0b0010 }

// size implements encoder: it refuses what decodeUnsubscribe refuses.
func (p *Unsubscribe) size(v Version) (int, error) {
	if p == nil {
		return 0, protocol("unsubscribe", "nil packet")
	}
	if err := checkID("unsubscribe", p.PacketID); err != nil {
		return 0, err
	}
	if len(p.Filters) == 0 {
		return 0, protocol("unsubscribe", "no topic filter") // [MQTT-3.10.3-2]
	}
	n := 2
	if v >= V5 {
		m, err := propsSize("unsubscribe", in(UNSUBSCRIBE), p.Props)
		if err != nil {
			return 0, err
		}
		n += propsFieldSize(m)
	}
	for _, f := range p.Filters {
		if err := checkUnsubscribeFilter(f, checkUTF8String(f)); err != nil {
			return 0, err
		}
		n += 2 + len(f)
	}
	return n, nil
}

// appendBody implements encoder.
func (p *Unsubscribe) appendBody(v Version, dst []byte) []byte {
	dst = appendUint16(dst, p.PacketID)
	if v >= V5 {
		dst = appendProps(dst, propsLen(p.Props), p.Props)
	}
	for _, f := range p.Filters {
		dst = appendString(dst, f)
	}
	return dst
}

//

// decodeUnsubscribe decodes an UNSUBSCRIBE body: packet identifier, in MQTT
// 5.0 the properties, then one or more topic filters [MQTT-3.10.3].
func decodeUnsubscribe(v Version, b []byte) (Packet, error) {
	id, i, err := readUint16(b, 0)
	if err != nil {
		return nil, field("unsubscribe", "packet identifier", err)
	}
	// [MQTT-2.3.1-1]
	if err := checkID("unsubscribe", id); err != nil {
		return nil, err
	}
	p := &Unsubscribe{PacketID: id}
	if v >= V5 {
		if p.Props, i, err = readProps("unsubscribe", in(UNSUBSCRIBE), b, i); err != nil {
			return nil, err
		}
	}
	for i < len(b) {
		// Topic filters are UTF-8 encoded strings [MQTT-3.10.3-1].
		f, j, err := readBinary(b, i)
		if err != nil {
			return nil, field("unsubscribe", "topic filter", err)
		}
		filter := string(f)
		if err := checkUnsubscribeFilter(filter, checkUTF8(f)); err != nil {
			return nil, err
		}
		p.Filters = append(p.Filters, filter)
		i = j
	}
	if len(p.Filters) == 0 {
		// At least one filter [MQTT-3.10.3-2].
		return nil, protocol("unsubscribe", "no topic filter")
	}
	return p, nil
}

// checkUnsubscribeFilter checks one filter, given the result of its UTF-8
// check.
func checkUnsubscribeFilter(f string, utf8Err error) error {
	if utf8Err != nil {
		return field("unsubscribe", "topic filter", utf8Err)
	}
	if err := checkFilter(f); err != nil {
		return field("unsubscribe", "topic filter", err)
	}
	return nil
}
