package broker

import (
	"context"
	"net"
	"testing"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Every protocol violation by a connected client closes that connection
// only [MQTT-4.8.0-1]; a client on the side keeps working throughout.
func TestBroker_violations(t *testing.T) {
	opts := testOptions(t)
	opts.MaxPacketSize = 1024
	b, addr := startBroker(t, opts)
	bystander := paho(t, addr, uniqueID(t, "bystander"), true)
	in := subscribe(t, bystander, "bystander/#", 1)

	tests := []struct {
		name string
		send []byte
	}{
		{"second CONNECT", encode(t, &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: "x", CleanSession: true})}, // [MQTT-3.1.0-2]
		{"reserved type 0", []byte{0x00, 0x00}}, // [MQTT-2.2.1]
		{"reserved type 15", []byte{0xf0, 0x00}},
		{"PUBLISH with QoS 3", []byte{0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01}},            // [MQTT-3.3.1-4]
		{"PUBLISH QoS 0 with DUP", []byte{0x38, 0x03, 0x00, 0x01, 'a'}},                    // [MQTT-3.3.1-2]
		{"PUBLISH with a wildcard topic", []byte{0x30, 0x03, 0x00, 0x01, '#'}},             // [MQTT-3.3.2-2]
		{"PUBLISH with an empty topic", []byte{0x30, 0x02, 0x00, 0x00}},                    // [MQTT-4.7.3-1]
		{"PUBLISH QoS 1 with packet id 0", []byte{0x32, 0x05, 0x00, 0x01, 'a', 0, 0}},      // [MQTT-2.3.1-1]
		{"PUBLISH topic with U+0000", []byte{0x30, 0x04, 0x00, 0x02, 'a', 0x00}},           // [MQTT-1.5.3-2]
		{"PUBLISH topic not UTF-8", []byte{0x30, 0x04, 0x00, 0x02, 0xc3, 0x28}},            // [MQTT-1.5.3-1]
		{"length past the packet", []byte{0x30, 0x03, 0x00, 0x09, 'a'}},                    // malformed
		{"remaining length with a fifth byte", []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}}, // [MQTT-2.2.3]
		{"packet over MaxPacketSize", append([]byte{0x30, 0x80, 0x10, 0x00, 0x01, 'a'}, make([]byte, 20)...)},
		{"PUBACK with flags", []byte{0x41, 0x02, 0x00, 0x01}},                             // [MQTT-2.2.2-1]
		{"PUBREL with flags 0", []byte{0x60, 0x02, 0x00, 0x01}},                           // [MQTT-3.6.1-1]
		{"SUBSCRIBE with flags 0", []byte{0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00}}, // [MQTT-3.8.1-1]
		{"SUBSCRIBE without filters", []byte{0x82, 0x02, 0x00, 0x01}},                     // [MQTT-3.8.3-3]
		{"SUBSCRIBE with QoS 3", []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03}},   // [MQTT-3-8.3-4]
		{"SUBSCRIBE reserved bits in QoS byte", []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x04}},
		{"UNSUBSCRIBE without filters", []byte{0xa2, 0x02, 0x00, 0x01}}, // [MQTT-3.10.3-2]
		{"PINGREQ with a body", []byte{0xc0, 0x01, 0x00}},
		{"DISCONNECT with flags", []byte{0xe1, 0x00}}, // [MQTT-3.14.1-1]
		{"client sends CONNACK", []byte{0x20, 0x02, 0x00, 0x00}},
		{"client sends SUBACK", []byte{0x90, 0x03, 0x00, 0x01, 0x00}},
		{"client sends UNSUBACK", []byte{0xb0, 0x02, 0x00, 0x01}},
		{"client sends PINGRESP", []byte{0xd0, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := b.Stats().ProtocolErrors
			c, _ := connectRaw(t, addr, uniqueID(t, "c"), true)
			c.sendBytes(tt.send)
			c.expectClosed()
			waitFor(t, "the protocol error to be counted", func() bool { return b.Stats().ProtocolErrors == before+1 })
			publish(t, bystander, "bystander/after", 1, false, tt.name)
			in.expect(t, "bystander/after", tt.name)
		})
	}
}

// The same over net.Pipe with ServeConn: a violation ends ServeConn.
func TestBroker_ServeConn_pipe(t *testing.T) {
	b, err := New(testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	server, client := net.Pipe()
	served := make(chan struct{})
	go func() {
		defer close(served)
		b.ServeConn(context.Background(), server)
	}()
	c := &rawClient{t: t, conn: client, r: packet.NewReader(client, 0)}
	c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: "pipe", CleanSession: true})
	c.expectPacket(&packet.Connack{})
	c.send(&packet.Subscribe{PacketID: 3, Subscriptions: []packet.Subscription{{Filter: "p/#", QoS: 1}, {Filter: "bad/#/x", QoS: 1}}})
	c.expectPacket(&packet.Suback{PacketID: 3, ReturnCodes: []byte{1, packet.SubackFailure}})
	c.send(&packet.Publish{Topic: "p/1", QoS: 1, PacketID: 4, Payload: []byte("loop")})
	var got *packet.Publish
	var acked bool
	for range 2 { // the PUBACK and the looped-back PUBLISH, in either order
		switch p := c.read().(type) {
		case *packet.Puback:
			acked = p.PacketID == 4
		case *packet.Publish:
			got = p
		}
	}
	if !acked || got == nil || got.Topic != "p/1" || string(got.Payload) != "loop" {
		t.Fatalf("acked %v, got %+v", acked, got)
	}
	c.send(&packet.Puback{PacketID: got.PacketID})
	c.send(&packet.Unsubscribe{PacketID: 5, Filters: []string{"p/#", "never/subscribed"}})
	c.expectPacket(&packet.Unsuback{PacketID: 5}) // [MQTT-3.10.4-5]
	c.sendBytes([]byte{0x00, 0x00})
	c.expectClosed()
	<-served
	_ = client.Close()
}
