package packet

// flags implements encoder.
func (*Pubcomp) flags() byte { return 0 }

// size implements encoder: the body is the packet identifier, never 0.
func (p *Pubcomp) size() (int, error) {
	if p == nil {
		return 0, protocol("pubcomp", "nil packet")
	}
	return 2, checkID("pubcomp", p.PacketID)
}

// appendBody implements encoder.
func (p *Pubcomp) appendBody(dst []byte) []byte { return appendUint16(dst, p.PacketID) }

//

// decodePubcomp decodes a PUBCOMP body: the packet identifier [MQTT-3.7.2].
func decodePubcomp(b []byte) (Packet, error) {
	id, err := decodeID("pubcomp", b)
	if err != nil {
		return nil, err
	}
	return &Pubcomp{PacketID: id}, nil
}
