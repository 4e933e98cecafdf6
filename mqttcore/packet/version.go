package packet

// Version is a protocol level [MQTT-3.1.2.2]: it chooses the wire format of
// every packet but CONNECT, whose layout follows the level it carries. A
// connection starts without one, learns it from the CONNECT (the server) or
// chooses it (the client), and keeps it until it closes.
type Version byte

// Protocol versions.
const (
	// V31 is MQTT 3.1 (protocol name "MQIsdp"); its packets are laid out
	// as MQTT 3.1.1's.
	V31 Version = 3
	// V311 is MQTT 3.1.1, the format of the package-level [Decode],
	// [Append], [ReadPacket] and of a new [Reader].
	V311 Version = 4
	// V5 is MQTT 5.0: properties, reason codes, subscription options and
	// the AUTH packet.
	V5 Version = 5
)

// Decode decodes the body of one control packet whose fixed header is h, in
// the wire format of version v. len(body) must equal h.Remaining. The
// returned packet copies what it keeps: body may be reused as soon as
// Decode returns.
//
// A CONNECT is decoded in the format of its own level, and v is the highest
// level accepted: [V311] (the package-level [Decode]) accepts MQTT 3.1 and
// 3.1.1, [V5] also MQTT 5.0. A server therefore decodes a connection's
// first packet with the highest version it speaks, then the rest with
// [Connect.Version]. A CONNECT of a known protocol name but a level v does
// not accept returns the partly decoded *Connect (name and level only)
// together with the error [RefusedProtocolVersion], so the server can
// answer CONNACK 0x01 [MQTT-3.1.2-2] (or 0x84 to an MQTT 5.0 client).
//
// Every other error comes with a nil packet and wraps [ErrMalformed] or
// [ErrProtocol]; for the few MQTT 5.0 rules with a more precise reason code
// it also wraps that [ReasonCode]. [Reason] maps any error to the reason
// code of the DISCONNECT (or CONNACK) that must follow [MQTT-4.13.1].
func (v Version) Decode(h FixedHeader, body []byte) (Packet, error) {
	return decode(v, h, body, nil, false)
}

// Version returns the wire format of the connection that p opens.
func (p *Connect) Version() Version { return Version(p.ProtocolLevel) }
