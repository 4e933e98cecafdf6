package packet

// flags implements encoder.
func (*Connack) flags() byte { return 0 }

// size implements encoder: it refuses what decodeConnack refuses.
func (p *Connack) size() (int, error) {
	if p == nil {
		return 0, protocol("connack", "nil packet")
	}
	return 2, checkConnack(p)
}

// appendBody implements encoder.
func (p *Connack) appendBody(dst []byte) []byte {
	var ack byte
	if p.SessionPresent {
		ack = 1
	}
	return append(dst, ack, byte(p.ReturnCode))
}

//

// decodeConnack decodes a CONNACK body; checkHeader has checked its length.
func decodeConnack(b []byte) (Packet, error) {
	ack, i, err := readByte(b, 0)
	if err != nil {
		return nil, field("connack", "acknowledge flags", err)
	}
	if ack&^1 != 0 {
		// Bits 7-1 of the acknowledge flags are reserved and 0 [MQTT-3.2.2.1].
		return nil, malformed("connack", "reserved acknowledge flags %#08b", ack)
	}
	code, _, err := readByte(b, i)
	if err != nil {
		return nil, field("connack", "return code", err)
	}
	p := &Connack{SessionPresent: ack == 1, ReturnCode: ConnackCode(code)}
	if err := checkConnack(p); err != nil {
		return nil, err
	}
	return p, nil
}

// checkConnack checks the return code and session present flag.
func checkConnack(p *Connack) error {
	if p.ReturnCode > RefusedNotAuthorized {
		// Return codes 6-255 are reserved [MQTT-3.2.2.3].
		return protocol("connack", "reserved return code %d", byte(p.ReturnCode))
	}
	if p.SessionPresent && p.ReturnCode != Accepted {
		// A refusal has session present 0 [MQTT-3.2.2-4].
		return protocol("connack", "session present with return code %d", byte(p.ReturnCode))
	}
	return nil
}
