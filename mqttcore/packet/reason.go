package packet

import (
	"errors"
	"fmt"
	"strings"
)

// ReasonCode is an MQTT 5.0 reason code [MQTT-2.4]: the outcome carried by
// CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT and
// AUTH. Values below 0x80 report success, 0x80 and above failure. Several
// names share a value (Success, NormalDisconnection and GrantedQoS0 are all
// 0x00); which applies depends on the packet.
//
// A ReasonCode is also an error: the decoder wraps the few errors that need
// a reason code more precise than Malformed Packet or Protocol Error (such
// as TopicAliasInvalid) with it, and [Reason] finds it. As an error, fmt
// prints it in lower case ("topic alias invalid"); [ReasonCode.String]
// gives the standard's spelling.
type ReasonCode byte

// Reason codes, named as the standard's table 2-6 names them.
const (
	Success                             ReasonCode = 0x00
	NormalDisconnection                 ReasonCode = 0x00
	GrantedQoS0                         ReasonCode = 0x00
	GrantedQoS1                         ReasonCode = 0x01
	GrantedQoS2                         ReasonCode = 0x02
	DisconnectWithWillMessage           ReasonCode = 0x04
	NoMatchingSubscribers               ReasonCode = 0x10
	NoSubscriptionExisted               ReasonCode = 0x11
	ContinueAuthentication              ReasonCode = 0x18
	ReAuthenticate                      ReasonCode = 0x19
	UnspecifiedError                    ReasonCode = 0x80
	MalformedPacket                     ReasonCode = 0x81
	ProtocolError                       ReasonCode = 0x82
	ImplementationSpecificError         ReasonCode = 0x83
	UnsupportedProtocolVersion          ReasonCode = 0x84
	ClientIdentifierNotValid            ReasonCode = 0x85
	BadUserNameOrPassword               ReasonCode = 0x86
	NotAuthorized                       ReasonCode = 0x87
	ServerUnavailable                   ReasonCode = 0x88
	ServerBusy                          ReasonCode = 0x89
	Banned                              ReasonCode = 0x8a
	ServerShuttingDown                  ReasonCode = 0x8b
	BadAuthenticationMethod             ReasonCode = 0x8c
	KeepAliveTimeout                    ReasonCode = 0x8d
	SessionTakenOver                    ReasonCode = 0x8e
	TopicFilterInvalid                  ReasonCode = 0x8f
	TopicNameInvalid                    ReasonCode = 0x90
	PacketIdentifierInUse               ReasonCode = 0x91
	PacketIdentifierNotFound            ReasonCode = 0x92
	ReceiveMaximumExceeded              ReasonCode = 0x93
	TopicAliasInvalid                   ReasonCode = 0x94
	PacketTooLarge                      ReasonCode = 0x95
	MessageRateTooHigh                  ReasonCode = 0x96
	QuotaExceeded                       ReasonCode = 0x97
	AdministrativeAction                ReasonCode = 0x98
	PayloadFormatInvalid                ReasonCode = 0x99
	RetainNotSupported                  ReasonCode = 0x9a
	QoSNotSupported                     ReasonCode = 0x9b
	UseAnotherServer                    ReasonCode = 0x9c
	ServerMoved                         ReasonCode = 0x9d
	SharedSubscriptionsNotSupported     ReasonCode = 0x9e
	ConnectionRateExceeded              ReasonCode = 0x9f
	MaximumConnectTime                  ReasonCode = 0xa0
	SubscriptionIdentifiersNotSupported ReasonCode = 0xa1
	WildcardSubscriptionsNotSupported   ReasonCode = 0xa2
)

// Reason returns the reason code a server sends in its CONNACK (before the
// connection is accepted) or DISCONNECT (after) when err, an error of
// [Decode], [Reader.Read] or [ReadPacket], ends a connection
// [MQTT-4.13.1]: the ReasonCode err wraps if any (e.g. TopicAliasInvalid),
// else MalformedPacket for [ErrMalformed], ProtocolError for [ErrProtocol],
// PacketTooLarge for [ErrTooLarge], UnsupportedProtocolVersion for
// [RefusedProtocolVersion], and UnspecifiedError for anything else (I/O
// errors). A nil err gives Success.
func Reason(err error) ReasonCode {
	var rc ReasonCode
	var cc ConnackCode
	switch {
	case err == nil:
		return Success
	case errors.As(err, &rc):
		return rc
	case errors.As(err, &cc):
		return cc.ReasonCode()
	case errors.Is(err, ErrMalformed):
		return MalformedPacket
	case errors.Is(err, ErrProtocol):
		return ProtocolError
	case errors.Is(err, ErrTooLarge):
		return PacketTooLarge
	}
	return UnspecifiedError
}

// ReasonCode returns the MQTT 5.0 CONNACK reason code that stands for the
// MQTT 3.1.1 return code c, for a server that decides in 3.1.1 terms.
func (c ConnackCode) ReasonCode() ReasonCode {
	switch c {
	case Accepted:
		return Success
	case RefusedProtocolVersion:
		return UnsupportedProtocolVersion
	case RefusedIdentifierRejected:
		return ClientIdentifierNotValid
	case RefusedServerUnavailable:
		return ServerUnavailable
	case RefusedBadUsernamePassword:
		return BadUserNameOrPassword
	case RefusedNotAuthorized:
		return NotAuthorized
	}
	return UnspecifiedError
}

// String returns the name the standard gives c, e.g. "Topic Alias invalid";
// 0x00 is "Success".
func (c ReasonCode) String() string {
	if s := reasonNames[c]; s != "" {
		return s
	}
	return fmt.Sprintf("reserved reason code %#02x", byte(c))
}

// Error implements error with the lower-case name, e.g. "topic alias
// invalid", so that a wrapped ReasonCode reads well in a message.
func (c ReasonCode) Error() string { return strings.ToLower(c.String()) }

//

var reasonNames = [256]string{
	0x00: "Success", 0x01: "Granted QoS 1", 0x02: "Granted QoS 2", 0x04: "Disconnect with Will Message",
	0x10: "No matching subscribers", 0x11: "No subscription existed", 0x18: "Continue authentication",
	0x19: "Re-authenticate", 0x80: "Unspecified error", 0x81: "Malformed Packet", 0x82: "Protocol Error",
	0x83: "Implementation specific error", 0x84: "Unsupported Protocol Version", 0x85: "Client Identifier not valid",
	0x86: "Bad User Name or Password", 0x87: "Not authorized", 0x88: "Server unavailable", 0x89: "Server busy",
	0x8a: "Banned", 0x8b: "Server shutting down", 0x8c: "Bad authentication method", 0x8d: "Keep Alive timeout",
	0x8e: "Session taken over", 0x8f: "Topic Filter invalid", 0x90: "Topic Name invalid",
	0x91: "Packet Identifier in use", 0x92: "Packet Identifier not found", 0x93: "Receive Maximum exceeded",
	0x94: "Topic Alias invalid", 0x95: "Packet too large", 0x96: "Message rate too high", 0x97: "Quota exceeded",
	0x98: "Administrative action", 0x99: "Payload format invalid", 0x9a: "Retain not supported",
	0x9b: "QoS not supported", 0x9c: "Use another server", 0x9d: "Server moved",
	0x9e: "Shared Subscriptions not supported", 0x9f: "Connection rate exceeded", 0xa0: "Maximum connect time",
	0xa1: "Subscription Identifiers not supported", 0xa2: "Wildcard Subscriptions not supported",
}

// reasonSet is a set of reason codes, one bit per value.
type reasonSet [4]uint64

// has reports whether c is in s.
func (s *reasonSet) has(c ReasonCode) bool { return s[c>>6]&(1<<(c&63)) != 0 }

// setOf builds a reasonSet from its members.
func setOf(codes ...ReasonCode) reasonSet {
	var s reasonSet
	for _, c := range codes {
		s[c>>6] |= 1 << (c & 63)
	}
	return s
}

// reasons holds, per packet type, the reason codes it may carry: table 3-1
// (CONNACK), 3-4 (PUBACK, PUBREC), 3-5/3-6 (PUBREL, PUBCOMP), 3-8 (SUBACK),
// 3-9 (UNSUBACK), 3-10 (DISCONNECT) and 3-11 (AUTH). A sender must use one
// of them [MQTT-3.2.2-8] [MQTT-3.4.2-1] [MQTT-3.5.2-1] [MQTT-3.6.2-1]
// [MQTT-3.7.2-1] [MQTT-3.9.3-1] [MQTT-3.11.3-1] [MQTT-3.14.2-1]
// [MQTT-3.15.2-1]; another value is a Protocol Error.
var reasons = func() (r [AUTH + 1]reasonSet) {
	r[CONNACK] = setOf(Success, UnspecifiedError, MalformedPacket, ProtocolError, ImplementationSpecificError,
		UnsupportedProtocolVersion, ClientIdentifierNotValid, BadUserNameOrPassword, NotAuthorized,
		ServerUnavailable, ServerBusy, Banned, BadAuthenticationMethod, TopicNameInvalid, PacketTooLarge,
		QuotaExceeded, PayloadFormatInvalid, RetainNotSupported, QoSNotSupported, UseAnotherServer, ServerMoved,
		ConnectionRateExceeded)
	r[PUBACK] = setOf(Success, NoMatchingSubscribers, UnspecifiedError, ImplementationSpecificError, NotAuthorized,
		TopicNameInvalid, PacketIdentifierInUse, QuotaExceeded, PayloadFormatInvalid)
	r[PUBREC] = r[PUBACK]
	r[PUBREL] = setOf(Success, PacketIdentifierNotFound)
	r[PUBCOMP] = r[PUBREL]
	r[SUBACK] = setOf(GrantedQoS0, GrantedQoS1, GrantedQoS2, UnspecifiedError, ImplementationSpecificError,
		NotAuthorized, TopicFilterInvalid, PacketIdentifierInUse, QuotaExceeded, SharedSubscriptionsNotSupported,
		SubscriptionIdentifiersNotSupported, WildcardSubscriptionsNotSupported)
	r[UNSUBACK] = setOf(Success, NoSubscriptionExisted, UnspecifiedError, ImplementationSpecificError,
		NotAuthorized, TopicFilterInvalid, PacketIdentifierInUse)
	r[DISCONNECT] = setOf(NormalDisconnection, DisconnectWithWillMessage, UnspecifiedError, MalformedPacket,
		ProtocolError, ImplementationSpecificError, NotAuthorized, ServerBusy, ServerShuttingDown,
		KeepAliveTimeout, SessionTakenOver, TopicFilterInvalid, TopicNameInvalid, ReceiveMaximumExceeded,
		TopicAliasInvalid, PacketTooLarge, MessageRateTooHigh, QuotaExceeded, AdministrativeAction,
		PayloadFormatInvalid, RetainNotSupported, QoSNotSupported, UseAnotherServer, ServerMoved,
		SharedSubscriptionsNotSupported, ConnectionRateExceeded, MaximumConnectTime,
		SubscriptionIdentifiersNotSupported, WildcardSubscriptionsNotSupported)
	r[AUTH] = setOf(Success, ContinueAuthentication, ReAuthenticate)
	return r
}()

// checkReason checks that packet type t may carry reason code c.
func checkReason(t Type, c ReasonCode) error {
	if reasons[t].has(c) {
		return nil
	}
	return protocol(typeName(t), "reason code %#02x not allowed", byte(c))
}
