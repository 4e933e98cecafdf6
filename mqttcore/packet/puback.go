package packet

// flags implements encoder.
func (*Puback) flags() byte { return 0 }

// size implements encoder: the body is the packet identifier, never 0.
func (p *Puback) size() (int, error) {
	if p == nil {
		return 0, protocol("puback", "nil packet")
	}
	return 2, checkID("puback", p.PacketID)
}

// appendBody implements encoder.
func (p *Puback) appendBody(dst []byte) []byte { return appendUint16(dst, p.PacketID) }

//

// decodePuback decodes a PUBACK body: the packet identifier [MQTT-3.4.2].
func decodePuback(b []byte) (Packet, error) {
	id, err := decodeID("puback", b)
	if err != nil {
		return nil, err
	}
	return &Puback{PacketID: id}, nil
}

// decodeID decodes the body of the packets that hold only a packet
// identifier; checkHeader has checked that the body has 2 bytes.
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
