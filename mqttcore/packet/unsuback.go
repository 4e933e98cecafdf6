package packet

// flags implements encoder.
func (*Unsuback) flags() byte { return 0 }

// size implements encoder: the body is the packet identifier, never 0.
func (p *Unsuback) size() (int, error) {
	if p == nil {
		return 0, protocol("unsuback", "nil packet")
	}
	return 2, checkID("unsuback", p.PacketID)
}

// appendBody implements encoder.
func (p *Unsuback) appendBody(dst []byte) []byte { return appendUint16(dst, p.PacketID) }

//

// decodeUnsuback decodes a UNSUBACK body: the packet identifier [MQTT-3.11.2].
func decodeUnsuback(b []byte) (Packet, error) {
	id, err := decodeID("unsuback", b)
	if err != nil {
		return nil, err
	}
	return &Unsuback{PacketID: id}, nil
}
