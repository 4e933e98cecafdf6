package packet

// The DISCONNECT packet [MQTT-3.14] has no variable header and no payload: its
// Remaining Length is 0, which checkHeader enforces on decode.

// flags implements encoder.
func (*Disconnect) flags() byte { return 0 }

// size implements encoder.
func (*Disconnect) size() (int, error) { return 0, nil }

// appendBody implements encoder.
func (*Disconnect) appendBody(dst []byte) []byte { return dst }
