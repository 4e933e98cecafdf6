package packet

// The PINGREQ packet [MQTT-3.12] has no variable header and no payload: its
// Remaining Length is 0, which checkHeader enforces on decode.

// flags implements encoder.
func (*Pingreq) flags() byte { return 0 }

// size implements encoder.
func (*Pingreq) size(Version) (int, error) { return 0, nil }

// appendBody implements encoder.
func (*Pingreq) appendBody(_ Version, dst []byte) []byte { return dst }
