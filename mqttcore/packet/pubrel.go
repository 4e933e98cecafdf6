package packet

// flags implements encoder.
func (*Pubrel) flags() byte { return 0b0010 }

// size implements encoder: the body is the packet identifier, never 0.
func (p *Pubrel) size() (int, error) {
	if p == nil {
		return 0, protocol("pubrel", "nil packet")
	}
	return 2, checkID("pubrel", p.PacketID)
}

// appendBody implements encoder.
func (p *Pubrel) appendBody(dst []byte) []byte { return appendUint16(dst, p.PacketID) }

//

// decodePubrel decodes a PUBREL body: the packet identifier [MQTT-3.6.2].
func decodePubrel(b []byte) (Packet, error) {
	id, err := decodeID("pubrel", b)
	if err != nil {
		return nil, err
	}
	return &Pubrel{PacketID: id}, nil
}
