package packet

// Protocol names and levels this codec decodes [MQTT-3.1.2.1] [MQTT-3.1.2.2].
const (
	// ProtocolMQTT is the protocol name of MQTT 3.1.1 (level 4).
	ProtocolMQTT = "MQTT"
	// ProtocolMQIsdp is the protocol name of MQTT 3.1 (level 3), which
	// many older clients still send.
	ProtocolMQIsdp = "MQIsdp"
	// Level311 is the protocol level of MQTT 3.1.1.
	Level311 byte = 4
	// Level31 is the protocol level of MQTT 3.1.
	Level31 byte = 3
	// Level5 is the protocol level of MQTT 5.0, whose name is "MQTT".
	Level5 byte = 5
)

// Connect flag bits [MQTT-3.1.2.3].
const (
	connectReserved     = 0b0000_0001
	connectCleanSession = 0b0000_0010
	connectWill         = 0b0000_0100
	connectWillQoS      = 0b0001_1000
	connectWillRetain   = 0b0010_0000
	connectPassword     = 0b0100_0000
	connectUsername     = 0b1000_0000
)

// flags implements encoder.
func (*Connect) flags() byte { return 0 }

// size implements encoder: it refuses what decodeConnect refuses, except
// that ProtocolLevel may be any value (see Append). The layout follows
// ProtocolLevel, whatever v.
func (p *Connect) size(Version) (int, error) {
	if p == nil {
		return 0, protocol("connect", "nil packet")
	}
	if p.ProtocolName != ProtocolMQTT && p.ProtocolName != ProtocolMQIsdp {
		return 0, protocol("connect", "protocol name %q", p.ProtocolName)
	}
	if err := checkConnectFlags(p.ProtocolLevel, p.connectFlags()); err != nil {
		return 0, err
	}
	if err := p.checkPayload(); err != nil {
		return 0, err
	}
	n := 2 + len(p.ProtocolName) + 1 + 1 + 2 + 2 + len(p.ClientID)
	if p.ProtocolLevel == Level5 {
		m, err := p.propsSize()
		if err != nil {
			return 0, err
		}
		n += m
	}
	if p.WillFlag {
		n += 2 + len(p.WillTopic) + 2 + len(p.WillMessage)
	}
	if p.UsernameFlag {
		n += 2 + len(p.Username)
	}
	if p.PasswordFlag {
		n += 2 + len(p.Password)
	}
	return n, nil
}

// appendBody implements encoder.
func (p *Connect) appendBody(_ Version, dst []byte) []byte {
	v5 := p.ProtocolLevel == Level5
	dst = appendString(dst, p.ProtocolName)
	dst = append(dst, p.ProtocolLevel, p.connectFlags())
	dst = appendUint16(dst, p.KeepAlive)
	if v5 {
		dst = appendProps(dst, propsLen(p.Props), p.Props)
	}
	dst = appendString(dst, p.ClientID)
	if p.WillFlag {
		if v5 {
			dst = appendProps(dst, propsLen(p.WillProps), p.WillProps)
		}
		dst = appendString(dst, p.WillTopic)
		dst = appendBinary(dst, p.WillMessage)
	}
	if p.UsernameFlag {
		dst = appendString(dst, p.Username)
	}
	if p.PasswordFlag {
		dst = appendBinary(dst, p.Password)
	}
	return dst
}

//

// connectFlags assembles the connect flags byte. A WillQoS above 3 spills
// into other bits, which checkConnectFlags then reports as a QoS of 3.
func (p *Connect) connectFlags() byte {
	f := min(p.WillQoS, 3) << 3
	for _, b := range [...]struct {
		set  bool
		mask byte
	}{
		{p.CleanSession, connectCleanSession},
		{p.WillFlag, connectWill},
		{p.WillRetain, connectWillRetain},
		{p.PasswordFlag, connectPassword},
		{p.UsernameFlag, connectUsername},
	} {
		if b.set {
			f |= b.mask
		}
	}
	return f
}

// checkPayload checks, for the encoder, that the payload fields agree with
// the flags and are valid.
func (p *Connect) checkPayload() error {
	if err := checkUTF8String(p.ClientID); err != nil {
		return field("connect", "client identifier", err)
	}
	if !p.WillFlag && (p.WillTopic != "" || len(p.WillMessage) > 0 || p.WillProps != nil) {
		return protocol("connect", "will topic, message or properties without will flag")
	}
	if p.WillFlag {
		if err := checkWillTopic(p.WillTopic, checkUTF8String(p.WillTopic)); err != nil {
			return err
		}
		if err := checkBinary(p.WillMessage); err != nil {
			return field("connect", "will message", err)
		}
	}
	if !p.UsernameFlag && p.Username != "" {
		return protocol("connect", "user name without user name flag")
	}
	if err := checkUTF8String(p.Username); err != nil {
		return field("connect", "user name", err)
	}
	if !p.PasswordFlag && len(p.Password) > 0 {
		return protocol("connect", "password without password flag")
	}
	if err := checkBinary(p.Password); err != nil {
		return field("connect", "password", err)
	}
	return nil
}

// propsSize checks the MQTT 5.0 properties and will properties and returns
// the size of their fields, Property Lengths included.
func (p *Connect) propsSize() (int, error) {
	n, err := propsSize("connect", in(CONNECT), p.Props)
	if err != nil {
		return 0, err
	}
	if err := checkAuthProps("connect", p.Props); err != nil {
		return 0, err
	}
	size := propsFieldSize(n)
	if p.WillFlag {
		if n, err = propsSize("connect: will", willScope, p.WillProps); err != nil {
			return 0, err
		}
		size += propsFieldSize(n)
	}
	return size, nil
}

// checkAuthProps checks that Authentication Data comes with an
// Authentication Method (3.1.2.11.10, 3.2.2.3.18, 3.15.2.2.3).
func checkAuthProps(what string, p *Properties) error {
	if p != nil && len(p.AuthData) > 0 && p.AuthMethod == "" {
		return protocol(what, "authentication data without authentication method")
	}
	return nil
}

// decodeConnect decodes a CONNECT body: protocol name, level, connect flags,
// keep alive, in MQTT 5.0 the properties, then the payload fields the flags
// announce [MQTT-3.1]. v is the highest level accepted.
func decodeConnect(v Version, b []byte) (Packet, error) {
	p := &Connect{}
	var i int
	var err error
	if p.ProtocolName, i, err = readString(b, 0); err != nil {
		return nil, field("connect", "protocol name", err)
	}
	if p.ProtocolLevel, i, err = readByte(b, i); err != nil {
		return nil, field("connect", "protocol level", err)
	}
	if p.ProtocolName != ProtocolMQTT && p.ProtocolName != ProtocolMQIsdp {
		// [MQTT-3.1.2-1]
		return nil, protocol("connect", "protocol name %q", p.ProtocolName)
	}
	if !supportedLevel(p.ProtocolName, p.ProtocolLevel) || Version(p.ProtocolLevel) > v {
		// The server answers CONNACK 0x01 [MQTT-3.1.2-2] (0x84 in
		// MQTT 5.0). Other levels may lay out the rest differently,
		// so stop here.
		return p, RefusedProtocolVersion
	}
	flags, i, err := readByte(b, i)
	if err != nil {
		return nil, field("connect", "connect flags", err)
	}
	if err := checkConnectFlags(p.ProtocolLevel, flags); err != nil {
		return nil, err
	}
	p.CleanSession = flags&connectCleanSession != 0
	p.WillFlag = flags&connectWill != 0
	p.WillQoS = (flags & connectWillQoS) >> 3
	p.WillRetain = flags&connectWillRetain != 0
	p.UsernameFlag = flags&connectUsername != 0
	p.PasswordFlag = flags&connectPassword != 0
	if p.KeepAlive, i, err = readUint16(b, i); err != nil {
		return nil, field("connect", "keep alive", err)
	}
	if p.ProtocolLevel == Level5 {
		if p.Props, i, err = readProps("connect", in(CONNECT), b, i); err != nil {
			return nil, err
		}
		if err := checkAuthProps("connect", p.Props); err != nil {
			return nil, err
		}
	}
	if i, err = p.decodePayload(b, i); err != nil {
		return nil, err
	}
	// A field the flags say is absent must not be there
	// [MQTT-3.1.2-11] [MQTT-3.1.2-18] [MQTT-3.1.2-20].
	if err := checkEnd("connect", b, i); err != nil {
		return nil, err
	}
	return p, nil
}

// decodePayload decodes the payload fields in their fixed order
// [MQTT-3.1.3-1], each present exactly when its flag says so.
func (p *Connect) decodePayload(b []byte, i int) (int, error) {
	var err error
	// The client identifier is always there, first, UTF-8
	// [MQTT-3.1.3-3] [MQTT-3.1.3-4]; it may be empty [MQTT-3.1.3-6].
	if p.ClientID, i, err = readString(b, i); err != nil {
		return i, field("connect", "client identifier", err)
	}
	if p.WillFlag {
		// Will topic and will message are present [MQTT-3.1.2-9],
		// after the will properties in MQTT 5.0 (3.1.3.2); the topic
		// is a UTF-8 string [MQTT-3.1.3-10].
		if p.ProtocolLevel == Level5 {
			if p.WillProps, i, err = readProps("connect: will", willScope, b, i); err != nil {
				return i, err
			}
		}
		var topic []byte
		if topic, i, err = readBinary(b, i); err != nil {
			return i, field("connect", "will topic", err)
		}
		p.WillTopic = string(topic)
		if err := checkWillTopic(p.WillTopic, checkUTF8(topic)); err != nil {
			return i, err
		}
		var msg []byte
		if msg, i, err = readBinary(b, i); err != nil {
			return i, field("connect", "will message", err)
		}
		p.WillMessage = cloneBytes(msg)
	}
	if p.UsernameFlag {
		// [MQTT-3.1.2-19] [MQTT-3.1.3-11]
		if p.Username, i, err = readString(b, i); err != nil {
			return i, field("connect", "user name", err)
		}
	}
	if p.PasswordFlag {
		// [MQTT-3.1.2-21]
		var pw []byte
		if pw, i, err = readBinary(b, i); err != nil {
			return i, field("connect", "password", err)
		}
		p.Password = cloneBytes(pw)
	}
	return i, nil
}

// supportedLevel reports whether the protocol name and level are MQTT 5.0,
// MQTT 3.1.1 or MQTT 3.1.
func supportedLevel(name string, level byte) bool {
	return name == ProtocolMQTT && (level == Level311 || level == Level5) || name == ProtocolMQIsdp && level == Level31
}

// checkConnectFlags checks the connect flags byte [MQTT-3.1.2.3] of a
// CONNECT of the given protocol level.
func checkConnectFlags(level byte, f byte) error {
	if f&connectReserved != 0 {
		// [MQTT-3.1.2-3]
		return malformed("connect", "reserved connect flag set")
	}
	qos := (f & connectWillQoS) >> 3
	if f&connectWill == 0 {
		if qos != 0 {
			// [MQTT-3.1.2-11] [MQTT-3.1.2-13]
			return malformed("connect", "will qos %d without will flag", qos)
		}
		if f&connectWillRetain != 0 {
			// [MQTT-3.1.2-11] [MQTT-3.1.2-15]
			return malformed("connect", "will retain without will flag")
		}
	}
	if qos == 3 {
		// [MQTT-3.1.2-14]
		return malformed("connect", "will qos 3")
	}
	if f&connectUsername == 0 && f&connectPassword != 0 && level != Level5 {
		// [MQTT-3.1.2-22]; MQTT 5.0 allows a password alone (3.1.2.9).
		return malformed("connect", "password flag without user name flag")
	}
	return nil
}

// checkWillTopic checks the will topic, given the result of its UTF-8 check.
// The will is published as a PUBLISH, so it follows the topic name rules
// (non-empty, no wildcard) as Mosquitto enforces too.
func checkWillTopic(topic string, utf8Err error) error {
	if utf8Err != nil {
		return field("connect", "will topic", utf8Err)
	}
	if err := checkTopicName(topic); err != nil {
		return field("connect", "will topic", err)
	}
	return nil
}
