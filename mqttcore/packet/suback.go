package packet

// flags implements encoder.
func (*Suback) flags() byte { return 0 }

// size implements encoder: it refuses what decodeSuback refuses.
func (p *Suback) size(v Version) (int, error) {
	if p == nil {
		return 0, protocol("suback", "nil packet")
	}
	return ackListSize(v, SUBACK, p.PacketID, p.ReturnCodes, p.Props)
}

// appendBody implements encoder.
func (p *Suback) appendBody(v Version, dst []byte) []byte {
	return appendAckList(v, dst, p.PacketID, p.ReturnCodes, p.Props)
}

//

// decodeSuback decodes a SUBACK body: packet identifier, in MQTT 5.0 the
// properties, then one return code per topic filter of the SUBSCRIBE
// [MQTT-3.9.3].
func decodeSuback(v Version, b []byte) (Packet, error) {
	id, codes, props, err := decodeAckList(v, SUBACK, b)
	if err != nil {
		return nil, err
	}
	return &Suback{PacketID: id, ReturnCodes: codes, Props: props}, nil
}

// The bodies of SUBACK and of MQTT 5.0's UNSUBACK share a layout: packet
// identifier, properties, one code per filter of the request.

// ackListSize refuses what decodeAckList refuses and returns the body
// length.
func ackListSize(v Version, t Type, id uint16, codes []byte, props *Properties) (int, error) {
	what := typeName(t)
	if err := checkID(what, id); err != nil {
		return 0, err
	}
	if err := checkReturnCodes(v, t, codes); err != nil {
		return 0, err
	}
	if v < V5 {
		return 2 + len(codes), nil
	}
	n, err := propsSize(what, in(t), props)
	if err != nil {
		return 0, err
	}
	return 2 + propsFieldSize(n) + len(codes), nil
}

// appendAckList appends what ackListSize measured.
func appendAckList(v Version, dst []byte, id uint16, codes []byte, props *Properties) []byte {
	dst = appendUint16(dst, id)
	if v >= V5 {
		dst = appendProps(dst, propsLen(props), props)
	}
	return append(dst, codes...)
}

// decodeAckList decodes a SUBACK, or an MQTT 5.0 UNSUBACK.
func decodeAckList(v Version, t Type, b []byte) (uint16, []byte, *Properties, error) {
	what := typeName(t)
	id, i, err := readUint16(b, 0)
	if err != nil {
		return 0, nil, nil, field(what, "packet identifier", err)
	}
	// [MQTT-2.3.1-7]
	if err := checkID(what, id); err != nil {
		return 0, nil, nil, err
	}
	var props *Properties
	if v >= V5 {
		if props, i, err = readProps(what, in(t), b, i); err != nil {
			return 0, nil, nil, err
		}
	}
	codes := b[i:]
	if err := checkReturnCodes(v, t, codes); err != nil {
		return 0, nil, nil, err
	}
	return id, cloneBytes(codes), props, nil
}

// checkReturnCodes checks that there is at least one return code (a
// SUBSCRIBE has at least one filter [MQTT-3.8.3-3], and a SUBACK answers
// each [MQTT-3.8.4-5]; so does an UNSUBACK) and that each is 0, 1, 2 or
// 0x80 [MQTT-3.9.3-2], in MQTT 5.0 a reason code of the packet type.
func checkReturnCodes(v Version, t Type, codes []byte) error {
	if len(codes) == 0 {
		return protocol(typeName(t), "no return code")
	}
	for _, c := range codes {
		if v >= V5 {
			if err := checkReason(t, ReasonCode(c)); err != nil {
				return err
			}
		} else if c > 2 && c != SubackFailure {
			return protocol(typeName(t), "reserved return code %#02x", c)
		}
	}
	return nil
}
