package packet

// In MQTT 3.1.1 the DISCONNECT packet [MQTT-3.14] has no variable header
// and no payload: its Remaining Length is 0, which checkHeader enforces on
// decode. In MQTT 5.0 it carries a reason code and properties (3.14.2),
// like AUTH (3.15.2); both are omitted when they are 0x00 and none.

// flags implements encoder.
func (*Disconnect) flags() byte { return 0 }

// size implements encoder.
func (p *Disconnect) size(v Version) (int, error) {
	if p == nil || v < V5 {
		return 0, nil
	}
	return reasonPropsSize(DISCONNECT, p.ReasonCode, p.Props)
}

// appendBody implements encoder.
func (p *Disconnect) appendBody(v Version, dst []byte) []byte {
	if p == nil || v < V5 {
		return dst
	}
	return appendReasonProps(dst, p.ReasonCode, p.Props)
}

// flags implements encoder: AUTH's are 0 [MQTT-3.15.1-1].
func (*Auth) flags() byte { return 0 }

// size implements encoder; AUTH exists only in MQTT 5.0.
func (p *Auth) size(v Version) (int, error) {
	if p == nil {
		return 0, protocol("auth", "nil packet")
	}
	if v < V5 {
		return 0, protocol("auth", "no auth packet before mqtt 5.0")
	}
	return reasonPropsSize(AUTH, p.ReasonCode, p.Props)
}

// appendBody implements encoder.
func (p *Auth) appendBody(_ Version, dst []byte) []byte {
	return appendReasonProps(dst, p.ReasonCode, p.Props)
}

//

// decodeDisconnect decodes a DISCONNECT body; checkHeader has checked the
// MQTT 3.1.1 length.
func decodeDisconnect(v Version, b []byte) (Packet, error) {
	if v < V5 {
		return &Disconnect{}, nil
	}
	code, props, err := decodeReasonProps(DISCONNECT, b)
	if err != nil {
		return nil, err
	}
	return &Disconnect{ReasonCode: code, Props: props}, nil
}

// decodeAuth decodes an AUTH body (3.15.2).
func decodeAuth(b []byte) (Packet, error) {
	code, props, err := decodeReasonProps(AUTH, b)
	if err != nil {
		return nil, err
	}
	return &Auth{ReasonCode: code, Props: props}, nil
}

// reasonPropsSize refuses what decodeReasonProps refuses and returns the
// body length: 0 for reason code 0x00 and no properties, 1 for no
// properties.
func reasonPropsSize(t Type, code ReasonCode, props *Properties) (int, error) {
	what := typeName(t)
	if err := checkReason(t, code); err != nil {
		return 0, err
	}
	n, err := propsSize(what, in(t), props)
	if err != nil {
		return 0, err
	}
	if err := checkAuthProps(what, props); err != nil {
		return 0, err
	}
	switch {
	case n > 0:
		return 1 + propsFieldSize(n), nil
	case code != 0:
		return 1, nil
	}
	return 0, nil
}

// appendReasonProps appends what reasonPropsSize measured.
func appendReasonProps(dst []byte, code ReasonCode, props *Properties) []byte {
	if n := propsLen(props); n > 0 {
		return appendProps(append(dst, byte(code)), n, props)
	}
	if code != 0 {
		dst = append(dst, byte(code))
	}
	return dst
}

// decodeReasonProps decodes the body of an MQTT 5.0 DISCONNECT or AUTH: a
// reason code unless the Remaining Length is 0, then properties unless it
// is 1 [MQTT-3.14.2.1] (3.15.2.1).
func decodeReasonProps(t Type, b []byte) (ReasonCode, *Properties, error) {
	what := typeName(t)
	if len(b) == 0 {
		return 0, nil, nil
	}
	c, i, err := readByte(b, 0)
	if err != nil {
		return 0, nil, field(what, "reason code", err)
	}
	code := ReasonCode(c)
	if err := checkReason(t, code); err != nil {
		return 0, nil, err
	}
	if i == len(b) {
		return code, nil, nil
	}
	props, i, err := readProps(what, in(t), b, i)
	if err != nil {
		return 0, nil, err
	}
	if err := checkAuthProps(what, props); err != nil {
		return 0, nil, err
	}
	if err := checkEnd(what, b, i); err != nil {
		return 0, nil, err
	}
	return code, props, nil
}
