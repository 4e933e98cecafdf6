package packet

import (
	"bytes"
	"reflect"
	"testing"

	paho "github.com/eclipse/paho.golang/packets"
)

// The interop tests check the MQTT 5.0 codec against an independent one,
// paho.golang's packets (a test dependency only). toPaho and fromPaho map
// field by field between the two packet models.

// pahoLimits lists the golden rows paho.golang cannot represent or decode,
// and why; they are skipped in the direction named.
var pahoLimits = map[string]string{
	// paho keeps one Subscription Identifier per packet.
	"publish/qos 1, message properties, two subscription identifiers": "both",
	// paho reads a reason code from a DISCONNECT of Remaining Length 0
	// (the short form of 3.14.2.1) and fails.
	"disconnect/short form: normal disconnection": "paho decodes",
	// paho encodes will properties with CONNECT's property set, which
	// drops Payload Format Indicator and Content Type
	// (pahoExtras covers the will properties it keeps).
	"connect/properties, will properties, password without user name": "paho encodes",
}

// pahoExtras stand in for the goldens paho cannot handle in full: a CONNECT
// whose will properties paho encodes, a PUBLISH with one Subscription
// Identifier.
var pahoExtras = []Packet{
	&Connect{ProtocolName: "MQTT", ProtocolLevel: 5, ClientID: "w1", WillFlag: true, WillQoS: 2, WillRetain: true,
		WillTopic: "lwt", WillMessage: []byte("gone"), WillProps: &Properties{WillDelay: 30, User: []UserProperty{{"k", "v"}}},
		Props: &Properties{SessionExpiry: u32(0)}},
	&Publish{QoS: 2, Dup: true, Retain: true, Topic: "a/b", PacketID: 9, Payload: []byte("p"), Props: &Properties{
		PayloadFormat: 1, MessageExpiry: 3600, ContentType: "text/plain", ResponseTopic: "r", CorrelationData: []byte{0},
		SubscriptionIDs: []uint32{268_435_455}, TopicAlias: 3, User: []UserProperty{{"a", "1"}, {"b", "2"}}}},
}

// TestPaho_extras runs pahoExtras both ways.
func TestPaho_extras(t *testing.T) {
	for _, want := range pahoExtras {
		t.Run(want.Type().String(), func(t *testing.T) {
			ours, err := V5.Append(nil, want)
			if err != nil {
				t.Fatal(err)
			}
			cp, err := paho.ReadPacket(bytes.NewReader(ours))
			if err != nil || !reflect.DeepEqual(fromPaho(t, cp), want) {
				t.Fatalf("paho decoded % x as %#v, %v", ours, fromPaho(t, cp), err)
			}
			var theirs bytes.Buffer
			if _, err := toPaho(t, want).WriteTo(&theirs); err != nil {
				t.Fatal(err)
			}
			if p, err := V5.ReadPacket(&theirs, 0); err != nil || !reflect.DeepEqual(p, want) {
				t.Fatalf("decoded paho's as %#v, %v", p, err)
			}
		})
	}
}

// TestPaho_decodesOurs: what our encoder produced (the v5 goldens, which
// TestV5_goldens checks are Append's output) paho decodes into the same
// fields.
func TestPaho_decodesOurs(t *testing.T) {
	for _, g := range goldens5 {
		t.Run(g.name, func(t *testing.T) {
			if l := pahoLimits[g.name]; l == "both" || l == "paho decodes" {
				t.Skip("paho.golang limitation")
			}
			cp, err := paho.ReadPacket(bytes.NewReader(g.wire))
			if err != nil {
				t.Fatalf("paho.ReadPacket(% x): %v", g.wire, err)
			}
			if got := fromPaho(t, cp); !reflect.DeepEqual(got, g.want) {
				t.Fatalf("paho decoded\n%#v\nwant %#v", got, g.want)
			}
		})
	}
}

// TestPaho_oursDecodesPaho: what paho encodes, V5.Decode decodes into the
// same fields, and re-encodes into bytes paho decodes again the same.
func TestPaho_oursDecodesPaho(t *testing.T) {
	for _, g := range goldens5 {
		t.Run(g.name, func(t *testing.T) {
			if l := pahoLimits[g.name]; l == "both" || l == "paho encodes" {
				t.Skip("paho.golang limitation")
			}
			var wire bytes.Buffer
			if _, err := toPaho(t, g.want).WriteTo(&wire); err != nil {
				t.Fatalf("paho WriteTo: %v", err)
			}
			p, err := V5.ReadPacket(bytes.NewReader(wire.Bytes()), 0)
			if err != nil {
				t.Fatalf("V5.ReadPacket(% x): %v", wire.Bytes(), err)
			}
			if !reflect.DeepEqual(p, g.want) {
				t.Fatalf("decoded paho's % x\nas  %#v\nwant %#v", wire.Bytes(), p, g.want)
			}
		})
	}
}

// toPaho builds paho's packet for ours.
func toPaho(t *testing.T, p Packet) *paho.ControlPacket {
	t.Helper()
	cp := paho.NewControlPacket(byte(p.Type()))
	switch p := p.(type) {
	case *Connect:
		c := cp.Content.(*paho.Connect)
		c.ProtocolName, c.ProtocolVersion, c.CleanStart, c.KeepAlive, c.ClientID = p.ProtocolName, p.ProtocolLevel, p.CleanSession, p.KeepAlive, p.ClientID
		c.WillFlag, c.WillQOS, c.WillRetain, c.WillTopic, c.WillMessage = p.WillFlag, p.WillQoS, p.WillRetain, p.WillTopic, p.WillMessage
		c.UsernameFlag, c.Username, c.PasswordFlag, c.Password = p.UsernameFlag, p.Username, p.PasswordFlag, p.Password
		c.Properties, c.WillProperties = propsToPaho(p.Props), propsToPaho(p.WillProps)
	case *Connack:
		*cp.Content.(*paho.Connack) = paho.Connack{SessionPresent: p.SessionPresent, ReasonCode: byte(p.ReasonCode), Properties: propsToPaho(p.Props)}
	case *Publish:
		*cp.Content.(*paho.Publish) = paho.Publish{Duplicate: p.Dup, QoS: p.QoS, Retain: p.Retain, Topic: p.Topic,
			PacketID: p.PacketID, Payload: p.Payload, Properties: propsToPaho(p.Props)}
	case *Puback:
		*cp.Content.(*paho.Puback) = paho.Puback{PacketID: p.PacketID, ReasonCode: byte(p.ReasonCode), Properties: propsToPaho(p.Props)}
	case *Pubrec:
		*cp.Content.(*paho.Pubrec) = paho.Pubrec{PacketID: p.PacketID, ReasonCode: byte(p.ReasonCode), Properties: propsToPaho(p.Props)}
	case *Pubrel:
		*cp.Content.(*paho.Pubrel) = paho.Pubrel{PacketID: p.PacketID, ReasonCode: byte(p.ReasonCode), Properties: propsToPaho(p.Props)}
	case *Pubcomp:
		*cp.Content.(*paho.Pubcomp) = paho.Pubcomp{PacketID: p.PacketID, ReasonCode: byte(p.ReasonCode), Properties: propsToPaho(p.Props)}
	case *Subscribe:
		s := cp.Content.(*paho.Subscribe)
		s.PacketID, s.Properties = p.PacketID, propsToPaho(p.Props)
		for _, o := range p.Subscriptions {
			s.Subscriptions = append(s.Subscriptions, paho.SubOptions{Topic: o.Filter, QoS: o.QoS, NoLocal: o.NoLocal,
				RetainAsPublished: o.RetainAsPublished, RetainHandling: o.RetainHandling})
		}
	case *Suback:
		*cp.Content.(*paho.Suback) = paho.Suback{PacketID: p.PacketID, Reasons: p.ReturnCodes, Properties: propsToPaho(p.Props)}
	case *Unsubscribe:
		*cp.Content.(*paho.Unsubscribe) = paho.Unsubscribe{PacketID: p.PacketID, Topics: p.Filters, Properties: propsToPaho(p.Props)}
	case *Unsuback:
		*cp.Content.(*paho.Unsuback) = paho.Unsuback{PacketID: p.PacketID, Reasons: p.ReasonCodes, Properties: propsToPaho(p.Props)}
	case *Disconnect:
		*cp.Content.(*paho.Disconnect) = paho.Disconnect{ReasonCode: byte(p.ReasonCode), Properties: propsToPaho(p.Props)}
	case *Auth:
		*cp.Content.(*paho.Auth) = paho.Auth{ReasonCode: byte(p.ReasonCode), Properties: propsToPaho(p.Props)}
		// paho sets AUTH's fixed header flags to 0001, which breaks
		// [MQTT-3.15.1-1] (they are reserved, 0000) and which we
		// refuse (see violations5).
		cp.Flags = 0
	case *Pingreq, *Pingresp:
	default:
		t.Fatalf("toPaho: %T", p)
	}
	return cp
}

// fromPaho builds our packet for paho's.
func fromPaho(t *testing.T, cp *paho.ControlPacket) Packet {
	t.Helper()
	switch c := cp.Content.(type) {
	case *paho.Connect:
		return &Connect{ProtocolName: c.ProtocolName, ProtocolLevel: c.ProtocolVersion, CleanSession: c.CleanStart,
			KeepAlive: c.KeepAlive, ClientID: c.ClientID, WillFlag: c.WillFlag, WillQoS: c.WillQOS, WillRetain: c.WillRetain,
			WillTopic: c.WillTopic, WillMessage: nonEmpty(c.WillMessage), WillProps: propsFromPaho(c.WillProperties),
			UsernameFlag: c.UsernameFlag, Username: c.Username, PasswordFlag: c.PasswordFlag, Password: nonEmpty(c.Password),
			Props: propsFromPaho(c.Properties)}
	case *paho.Connack:
		return &Connack{SessionPresent: c.SessionPresent, ReasonCode: ReasonCode(c.ReasonCode), Props: propsFromPaho(c.Properties)}
	case *paho.Publish:
		return &Publish{Dup: c.Duplicate, QoS: c.QoS, Retain: c.Retain, Topic: c.Topic, PacketID: c.PacketID,
			Payload: nonEmpty(c.Payload), Props: propsFromPaho(c.Properties)}
	case *paho.Puback:
		return &Puback{PacketID: c.PacketID, ReasonCode: ReasonCode(c.ReasonCode), Props: propsFromPaho(c.Properties)}
	case *paho.Pubrec:
		return &Pubrec{PacketID: c.PacketID, ReasonCode: ReasonCode(c.ReasonCode), Props: propsFromPaho(c.Properties)}
	case *paho.Pubrel:
		return &Pubrel{PacketID: c.PacketID, ReasonCode: ReasonCode(c.ReasonCode), Props: propsFromPaho(c.Properties)}
	case *paho.Pubcomp:
		return &Pubcomp{PacketID: c.PacketID, ReasonCode: ReasonCode(c.ReasonCode), Props: propsFromPaho(c.Properties)}
	case *paho.Subscribe:
		p := &Subscribe{PacketID: c.PacketID, Props: propsFromPaho(c.Properties)}
		for _, o := range c.Subscriptions {
			p.Subscriptions = append(p.Subscriptions, Subscription{Filter: o.Topic, QoS: o.QoS, NoLocal: o.NoLocal,
				RetainAsPublished: o.RetainAsPublished, RetainHandling: o.RetainHandling})
		}
		return p
	case *paho.Suback:
		return &Suback{PacketID: c.PacketID, ReturnCodes: c.Reasons, Props: propsFromPaho(c.Properties)}
	case *paho.Unsubscribe:
		return &Unsubscribe{PacketID: c.PacketID, Filters: c.Topics, Props: propsFromPaho(c.Properties)}
	case *paho.Unsuback:
		return &Unsuback{PacketID: c.PacketID, ReasonCodes: c.Reasons, Props: propsFromPaho(c.Properties)}
	case *paho.Disconnect:
		return &Disconnect{ReasonCode: ReasonCode(c.ReasonCode), Props: propsFromPaho(c.Properties)}
	case *paho.Auth:
		return &Auth{ReasonCode: ReasonCode(c.ReasonCode), Props: propsFromPaho(c.Properties)}
	case *paho.Pingreq:
		return &Pingreq{}
	case *paho.Pingresp:
		return &Pingresp{}
	}
	t.Fatalf("fromPaho: %T", cp.Content)
	return nil
}

// propsToPaho maps our properties to paho's.
func propsToPaho(p *Properties) *paho.Properties {
	if p == nil {
		return &paho.Properties{}
	}
	q := &paho.Properties{ContentType: p.ContentType, ResponseTopic: p.ResponseTopic, CorrelationData: p.CorrelationData,
		SessionExpiryInterval: p.SessionExpiry, AssignedClientID: p.AssignedClientID, ServerKeepAlive: p.ServerKeepAlive,
		AuthMethod: p.AuthMethod, AuthData: p.AuthData, ResponseInfo: p.ResponseInfo, ServerReference: p.ServerReference,
		ReasonString: p.ReasonString, MaximumQOS: p.MaximumQoS,
		RequestProblemInfo: byteOf(p.RequestProblemInfo), RetainAvailable: byteOf(p.RetainAvailable),
		WildcardSubAvailable: byteOf(p.WildcardSubAvailable), SubIDAvailable: byteOf(p.SubIDAvailable),
		SharedSubAvailable: byteOf(p.SharedSubAvailable)}
	q.PayloadFormat = nonZero(p.PayloadFormat)
	q.MessageExpiry = nonZero(p.MessageExpiry)
	q.WillDelayInterval = nonZero(p.WillDelay)
	q.ReceiveMaximum = nonZero(p.ReceiveMaximum)
	q.TopicAliasMaximum = nonZero(p.TopicAliasMaximum)
	q.TopicAlias = nonZero(p.TopicAlias)
	q.MaximumPacketSize = nonZero(p.MaximumPacketSize)
	if p.RequestResponseInfo {
		q.RequestResponseInfo = nonZero(byte(1))
	}
	if len(p.SubscriptionIDs) > 0 {
		id := int(p.SubscriptionIDs[0])
		q.SubscriptionIdentifier = &id
	}
	for _, u := range p.User {
		q.User = append(q.User, paho.User{Key: u.Key, Value: u.Value})
	}
	return q
}

// propsFromPaho maps paho's properties to ours; none gives nil.
func propsFromPaho(q *paho.Properties) *Properties {
	if q == nil {
		return nil
	}
	p := &Properties{ContentType: q.ContentType, ResponseTopic: q.ResponseTopic, CorrelationData: nonEmpty(q.CorrelationData),
		SessionExpiry: q.SessionExpiryInterval, AssignedClientID: q.AssignedClientID, ServerKeepAlive: q.ServerKeepAlive,
		AuthMethod: q.AuthMethod, AuthData: nonEmpty(q.AuthData), ResponseInfo: q.ResponseInfo,
		ServerReference: q.ServerReference, ReasonString: q.ReasonString, MaximumQoS: q.MaximumQOS,
		RequestProblemInfo: boolOf(q.RequestProblemInfo), RetainAvailable: boolOf(q.RetainAvailable),
		WildcardSubAvailable: boolOf(q.WildcardSubAvailable), SubIDAvailable: boolOf(q.SubIDAvailable),
		SharedSubAvailable: boolOf(q.SharedSubAvailable),
		PayloadFormat:      deref(q.PayloadFormat), MessageExpiry: deref(q.MessageExpiry), WillDelay: deref(q.WillDelayInterval),
		ReceiveMaximum: deref(q.ReceiveMaximum), TopicAliasMaximum: deref(q.TopicAliasMaximum), TopicAlias: deref(q.TopicAlias),
		MaximumPacketSize: deref(q.MaximumPacketSize), RequestResponseInfo: deref(q.RequestResponseInfo) == 1}
	if q.SubscriptionIdentifier != nil {
		p.SubscriptionIDs = []uint32{uint32(*q.SubscriptionIdentifier)}
	}
	for _, u := range q.User {
		p.User = append(p.User, UserProperty{u.Key, u.Value})
	}
	if reflect.DeepEqual(p, &Properties{}) {
		return nil
	}
	return p
}

// nonZero returns a pointer to v, or nil for 0.
func nonZero[T byte | uint16 | uint32](v T) *T {
	if v == 0 {
		return nil
	}
	return &v
}

// byteOf and boolOf map an optional flag between the two models.
func byteOf(b *bool) *byte {
	if b == nil {
		return nil
	}
	if *b {
		return u8(1)
	}
	return u8(0)
}

func boolOf(b *byte) *bool {
	if b == nil {
		return nil
	}
	return flag(*b == 1)
}

// nonEmpty is our canonical form of a byte slice: nil when empty.
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
