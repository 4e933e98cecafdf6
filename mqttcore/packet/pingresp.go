package packet

// The PINGRESP packet [MQTT-3.13] has no variable header and no payload: its
// Remaining Length is 0, which checkHeader enforces on decode.

// flags implements encoder.
func (*Pingresp) flags() byte { return 0 }

// size implements encoder.
func (*Pingresp) size(Version) (int, error) { return 0, nil }

// appendBody implements encoder.
func (*Pingresp) appendBody(_ Version, dst []byte) []byte { return dst }
