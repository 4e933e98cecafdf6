package packet

// flags implements encoder.
func (*Suback) flags() byte { return 0 }

// size implements encoder: it refuses what decodeSuback refuses.
func (p *Suback) size() (int, error) {
	if p == nil {
		return 0, protocol("suback", "nil packet")
	}
	if err := checkID("suback", p.PacketID); err != nil {
		return 0, err
	}
	if err := checkReturnCodes(p.ReturnCodes); err != nil {
		return 0, err
	}
	return 2 + len(p.ReturnCodes), nil
}

// appendBody implements encoder.
func (p *Suback) appendBody(dst []byte) []byte {
	return append(appendUint16(dst, p.PacketID), p.ReturnCodes...)
}

//

// decodeSuback decodes a SUBACK body: packet identifier, then one return
// code per topic filter of the SUBSCRIBE [MQTT-3.9.3].
func decodeSuback(b []byte) (Packet, error) {
	id, i, err := readUint16(b, 0)
	if err != nil {
		return nil, field("suback", "packet identifier", err)
	}
	// [MQTT-2.3.1-7]
	if err := checkID("suback", id); err != nil {
		return nil, err
	}
	codes := b[i:]
	if err := checkReturnCodes(codes); err != nil {
		return nil, err
	}
	return &Suback{PacketID: id, ReturnCodes: cloneBytes(codes)}, nil
}

// checkReturnCodes checks that there is at least one return code (a
// SUBSCRIBE has at least one filter [MQTT-3.8.3-3], and a SUBACK answers
// each [MQTT-3.8.4-5]) and that each is 0, 1, 2 or 0x80 [MQTT-3.9.3-2].
func checkReturnCodes(codes []byte) error {
	if len(codes) == 0 {
		return protocol("suback", "no return code")
	}
	for _, c := range codes {
		if c > 2 && c != SubackFailure {
			return protocol("suback", "reserved return code %#02x", c)
		}
	}
	return nil
}
