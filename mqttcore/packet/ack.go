package packet

// PUBACK [MQTT-3.4], PUBREC [MQTT-3.5], PUBREL [MQTT-3.6] and PUBCOMP
// [MQTT-3.7] share one layout, Ack. In MQTT 3.1.1 the body is the packet
// identifier; MQTT 5.0 adds a reason code and properties, omitted when
// Success and none (3.4.2.1).

// flags implements encoder.
func (*Puback) flags() byte { return 0 }

// flags implements encoder.
func (*Pubrec) flags() byte { return 0 }

// flags implements encoder: PUBREL carries 0b0010 [MQTT-3.6.1-1].
func (*Pubrel) flags() byte { return 0b0010 }

// flags implements encoder.
func (*Pubcomp) flags() byte { return 0 }

// size implements encoder.
func (p *Puback) size(v Version) (int, error) { return (*Ack)(p).size(v, PUBACK) }

// size implements encoder.
func (p *Pubrec) size(v Version) (int, error) { return (*Ack)(p).size(v, PUBREC) }

// size implements encoder.
func (p *Pubrel) size(v Version) (int, error) { return (*Ack)(p).size(v, PUBREL) }

// size implements encoder.
func (p *Pubcomp) size(v Version) (int, error) { return (*Ack)(p).size(v, PUBCOMP) }

// appendBody implements encoder.
func (p *Puback) appendBody(v Version, dst []byte) []byte { return (*Ack)(p).appendBody(v, dst) }

// appendBody implements encoder.
func (p *Pubrec) appendBody(v Version, dst []byte) []byte { return (*Ack)(p).appendBody(v, dst) }

// appendBody implements encoder.
func (p *Pubrel) appendBody(v Version, dst []byte) []byte { return (*Ack)(p).appendBody(v, dst) }

// appendBody implements encoder.
func (p *Pubcomp) appendBody(v Version, dst []byte) []byte { return (*Ack)(p).appendBody(v, dst) }

//

// size refuses what decodeAck refuses and returns the body length: the
// packet identifier, never 0 [MQTT-2.3.1-6], then in MQTT 5.0 the reason
// code and properties when they are not Success and none.
func (a *Ack) size(v Version, t Type) (int, error) {
	what := typeName(t)
	if a == nil {
		return 0, protocol(what, "nil packet")
	}
	if err := checkID(what, a.PacketID); err != nil {
		return 0, err
	}
	if v < V5 {
		return 2, nil
	}
	if err := checkReason(t, a.ReasonCode); err != nil {
		return 0, err
	}
	n, err := propsSize(what, in(t), a.Props)
	switch {
	case err != nil:
		return 0, err
	case n > 0:
		return 3 + propsFieldSize(n), nil
	case a.ReasonCode != Success:
		return 3, nil
	}
	return 2, nil
}

// appendBody appends what size measured.
func (a *Ack) appendBody(v Version, dst []byte) []byte {
	dst = appendUint16(dst, a.PacketID)
	if v < V5 {
		return dst
	}
	if n := propsLen(a.Props); n > 0 {
		return appendProps(append(dst, byte(a.ReasonCode)), n, a.Props)
	}
	if a.ReasonCode != Success {
		dst = append(dst, byte(a.ReasonCode))
	}
	return dst
}

// decodeAck decodes the body of a PUBACK, PUBREC, PUBREL or PUBCOMP.
func decodeAck(v Version, t Type, b []byte) (Packet, error) {
	var a Ack
	var err error
	if v < V5 {
		a.PacketID, err = decodeID(typeName(t), b)
	} else {
		err = a.decodeV5(t, b)
	}
	if err != nil {
		return nil, err
	}
	switch t {
	case PUBACK:
		return (*Puback)(&a), nil
	case PUBREC:
		return (*Pubrec)(&a), nil
	case PUBREL:
		return (*Pubrel)(&a), nil
	}
	return (*Pubcomp)(&a), nil
}

// decodeV5 decodes an MQTT 5.0 acknowledgement: packet identifier, then a
// reason code unless the Remaining Length is 2, then properties unless it
// is 3 (3.4.2.1, 3.4.2.2).
func (a *Ack) decodeV5(t Type, b []byte) error {
	what := typeName(t)
	id, i, err := readUint16(b, 0)
	if err != nil {
		return field(what, "packet identifier", err)
	}
	if err := checkID(what, id); err != nil {
		return err
	}
	a.PacketID = id
	if i == len(b) {
		return nil
	}
	code, i, err := readByte(b, i)
	if err != nil {
		return field(what, "reason code", err)
	}
	if err := checkReason(t, ReasonCode(code)); err != nil {
		return err
	}
	a.ReasonCode = ReasonCode(code)
	if i == len(b) {
		return nil
	}
	if a.Props, i, err = readProps(what, in(t), b, i); err != nil {
		return err
	}
	return checkEnd(what, b, i)
}

// decodeID decodes the body of the MQTT 3.1.1 packets that hold only a
// packet identifier; checkHeader has checked that the body has 2 bytes.
func decodeID(what string, b []byte) (uint16, error) {
	id, i, err := readUint16(b, 0)
	if err != nil {
		return 0, field(what, "packet identifier", err)
	}
	if err := checkEnd(what, b, i); err != nil {
		return 0, err
	}
	return id, checkID(what, id)
}
