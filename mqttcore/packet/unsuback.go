package packet

// flags implements encoder.
func (*Unsuback) flags() byte { return 0 }

// size implements encoder: in MQTT 3.1.1 the body is the packet identifier,
// never 0; MQTT 5.0 adds properties and a reason code per filter (3.11).
func (p *Unsuback) size(v Version) (int, error) {
	if p == nil {
		return 0, protocol("unsuback", "nil packet")
	}
	if v < V5 {
		return 2, checkID("unsuback", p.PacketID)
	}
	return ackListSize(v, UNSUBACK, p.PacketID, p.ReasonCodes, p.Props)
}

// appendBody implements encoder.
func (p *Unsuback) appendBody(v Version, dst []byte) []byte {
	if v < V5 {
		return appendUint16(dst, p.PacketID)
	}
	return appendAckList(v, dst, p.PacketID, p.ReasonCodes, p.Props)
}

//

// decodeUnsuback decodes a UNSUBACK body: the packet identifier
// [MQTT-3.11.2], in MQTT 5.0 followed by properties and reason codes.
func decodeUnsuback(v Version, b []byte) (Packet, error) {
	if v < V5 {
		id, err := decodeID("unsuback", b)
		if err != nil {
			return nil, err
		}
		return &Unsuback{PacketID: id}, nil
	}
	id, codes, props, err := decodeAckList(v, UNSUBACK, b)
	if err != nil {
		return nil, err
	}
	return &Unsuback{PacketID: id, ReasonCodes: codes, Props: props}, nil
}
