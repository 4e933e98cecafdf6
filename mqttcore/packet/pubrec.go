package packet

// flags implements encoder.
func (*Pubrec) flags() byte { return 0 }

// size implements encoder: the body is the packet identifier, never 0.
func (p *Pubrec) size() (int, error) {
	if p == nil {
		return 0, protocol("pubrec", "nil packet")
	}
	return 2, checkID("pubrec", p.PacketID)
}

// appendBody implements encoder.
func (p *Pubrec) appendBody(dst []byte) []byte { return appendUint16(dst, p.PacketID) }

//

// decodePubrec decodes a PUBREC body: the packet identifier [MQTT-3.5.2].
func decodePubrec(b []byte) (Packet, error) {
	id, err := decodeID("pubrec", b)
	if err != nil {
		return nil, err
	}
	return &Pubrec{PacketID: id}, nil
}
