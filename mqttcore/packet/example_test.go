package packet_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// A connection loop: read packets with a size limit, answer them with Append.
func ExampleReader() {
	var conn bytes.Buffer // stands in for a net.Conn
	wire, _ := packet.Append(nil, &packet.Publish{QoS: 1, PacketID: 7, Topic: "gw/temp", Payload: []byte("21.5")})
	wire, _ = packet.Append(wire, &packet.Pingreq{})
	conn.Write(wire)

	r := packet.NewReader(&conn, 1<<20)
	var out []byte
	for {
		p, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println("close the connection:", err)
			return
		}
		switch p := p.(type) {
		case *packet.Publish:
			fmt.Printf("publish %s %q qos %d\n", p.Topic, p.Payload, p.QoS)
			out, _ = packet.Append(out, &packet.Puback{PacketID: p.PacketID})
		case *packet.Pingreq:
			fmt.Println("ping")
			out, _ = packet.Append(out, &packet.Pingresp{})
		}
	}
	fmt.Printf("reply % x\n", out)
	// Output:
	// publish gw/temp "21.5" qos 1
	// ping
	// reply 40 02 00 07 d0 00
}

// An MQTT 5 client gets CONNACK 0x01 from a 3.1.1 server.
func ExampleDecode_unsupportedLevel() {
	wire := []byte{0x10, 0x07, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05}
	_, err := packet.ReadPacket(bytes.NewReader(wire), 0)
	var code packet.ConnackCode
	if errors.As(err, &code) {
		ack, _ := packet.Append(nil, &packet.Connack{ReturnCode: code})
		fmt.Printf("%v\n% x\n", err, ack)
	}
	// Output:
	// packet: connection refused: unacceptable protocol version
	// 20 02 00 01
}

// A packet that would break the protocol is not encoded.
func ExampleAppend() {
	_, err := packet.Append(nil, &packet.Publish{QoS: 1, Topic: "a/b"})
	fmt.Println(err)
	_, err = packet.Append(nil, &packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "a/#", QoS: 3}}})
	fmt.Println(err)
	// Output:
	// packet: publish: packet identifier 0: protocol violation
	// packet: subscribe: requested qos 3: malformed packet
}

// An MQTT 5.0 server: decode the first packet with the highest version it
// speaks, then the connection's packets with the version of its CONNECT;
// close a connection with the reason code the decoding error carries.
func ExampleVersion_Decode() {
	connect, _ := packet.Append(nil, &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 5, ClientID: "c",
		Props: &packet.Properties{ReceiveMaximum: 10}})
	alias0 := []byte{0x30, 0x07, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x00} // PUBLISH with Topic Alias 0
	r := packet.NewReader(bytes.NewReader(append(connect, alias0...)), 1<<20)

	r.SetVersion(packet.V5)
	p, _ := r.Read()
	c := p.(*packet.Connect)
	r.SetVersion(c.Version())
	ack, _ := c.Version().Append(nil, &packet.Connack{Props: &packet.Properties{TopicAliasMaximum: 4}})
	fmt.Printf("connect level %d, receive maximum %d; connack % x\n", c.ProtocolLevel, c.Props.ReceiveMaximum, ack)

	_, err := r.Read()
	code := packet.Reason(err)
	bye, _ := packet.V5.Append(nil, &packet.Disconnect{ReasonCode: code})
	fmt.Printf("%v\ndisconnect %#02x (%s): % x\n", err, byte(code), code.String(), bye)
	// Output:
	// connect level 5, receive maximum 10; connack 20 06 00 00 03 22 00 04
	// packet: publish: topic alias: value 0: topic alias invalid: protocol violation
	// disconnect 0x94 (Topic Alias invalid): e0 01 94
}
