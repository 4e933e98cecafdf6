package packet

// flags implements encoder.
func (*Connack) flags() byte { return 0 }

// size implements encoder: it refuses what decodeConnack refuses.
func (p *Connack) size(v Version) (int, error) {
	if p == nil {
		return 0, protocol("connack", "nil packet")
	}
	if ok311, ok5 := p.ReturnCode == Accepted, p.ReasonCode == Success; v >= V5 && ok5 && !ok311 || v < V5 && ok311 && !ok5 {
		// Success in the version's own field but a refusal in the
		// other's is a bug that would tell a refused client it is
		// connected.
		return 0, protocol("connack", "return code %d with reason code %#02x", byte(p.ReturnCode), byte(p.ReasonCode))
	}
	if v < V5 {
		return 2, checkConnack(p)
	}
	if err := checkConnackV5(p.SessionPresent, p.ReasonCode); err != nil {
		return 0, err
	}
	n, err := propsSize("connack", in(CONNACK), p.Props)
	if err != nil {
		return 0, err
	}
	if err := checkAuthProps("connack", p.Props); err != nil {
		return 0, err
	}
	return 2 + propsFieldSize(n), nil
}

// appendBody implements encoder.
func (p *Connack) appendBody(v Version, dst []byte) []byte {
	var ack byte
	if p.SessionPresent {
		ack = 1
	}
	if v < V5 {
		return append(dst, ack, byte(p.ReturnCode))
	}
	dst = append(dst, ack, byte(p.ReasonCode))
	return appendProps(dst, propsLen(p.Props), p.Props)
}

//

// decodeConnack decodes a CONNACK body: acknowledge flags, return (reason)
// code, in MQTT 5.0 the properties; checkHeader has checked the MQTT 3.1.1
// length.
func decodeConnack(v Version, b []byte) (Packet, error) {
	ack, i, err := readByte(b, 0)
	if err != nil {
		return nil, field("connack", "acknowledge flags", err)
	}
	if ack&^1 != 0 {
		// Bits 7-1 of the acknowledge flags are reserved and 0
		// [MQTT-3.2.2.1]; [MQTT-3.2.2-1] in MQTT 5.0.
		return nil, malformed("connack", "reserved acknowledge flags %#08b", ack)
	}
	code, i, err := readByte(b, i)
	if err != nil {
		return nil, field("connack", "return code", err)
	}
	p := &Connack{SessionPresent: ack == 1}
	if v < V5 {
		p.ReturnCode = ConnackCode(code)
		if err := checkConnack(p); err != nil {
			return nil, err
		}
		return p, nil
	}
	p.ReasonCode = ReasonCode(code)
	if err := checkConnackV5(p.SessionPresent, p.ReasonCode); err != nil {
		return nil, err
	}
	if p.Props, i, err = readProps("connack", in(CONNACK), b, i); err != nil {
		return nil, err
	}
	if err := checkAuthProps("connack", p.Props); err != nil {
		return nil, err
	}
	if err := checkEnd("connack", b, i); err != nil {
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

// checkConnackV5 checks an MQTT 5.0 reason code and session present flag.
func checkConnackV5(sessionPresent bool, code ReasonCode) error {
	if err := checkReason(CONNACK, code); err != nil {
		return err
	}
	if sessionPresent && code != Success {
		// A refusal has session present 0 [MQTT-3.2.2-6].
		return protocol("connack", "session present with reason code %#02x", byte(code))
	}
	return nil
}
