package broker

import (
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// willConnect connects a raw client with a will.
func willConnect(t *testing.T, addr, id string, clean bool, keepAlive uint16, will *packet.Publish) *rawClient {
	t.Helper()
	c := dialRaw(t, addr)
	c.send(&packet.Connect{
		ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: id, CleanSession: clean, KeepAlive: keepAlive,
		WillFlag: true, WillTopic: will.Topic, WillMessage: will.Payload, WillQoS: will.QoS, WillRetain: will.Retain,
	})
	if ack := c.connack(); ack.ReturnCode != packet.Accepted {
		t.Fatalf("CONNACK %v", ack.ReturnCode)
	}
	return c
}

func mqttPublish(topic, payload string, retain bool) *packet.Publish {
	return &packet.Publish{Topic: topic, Payload: []byte(payload), Retain: retain}
}

func TestBroker_will(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	sub := paho(t, addr, uniqueID(t, "sub"), true)
	in := subscribe(t, sub, "will/#", 2)
	marker := paho(t, addr, uniqueID(t, "marker"), true)

	tests := []struct {
		name     string
		will     packet.Publish
		keep     uint16
		end      func(c *rawClient)
		wantWill bool
	}{
		{
			name: "abnormal close publishes the will with its QoS", // [MQTT-3.1.2-8] [MQTT-3.1.2-14]
			will: packet.Publish{Topic: "will/close", Payload: []byte("gone"), QoS: 1},
			end:  func(c *rawClient) { _ = c.conn.Close() }, wantWill: true,
		},
		{
			name: "DISCONNECT discards the will", // [MQTT-3.1.2-10] [MQTT-3.14.4-3]
			will: packet.Publish{Topic: "will/disconnect", Payload: []byte("gone"), QoS: 1},
			end: func(c *rawClient) {
				c.send(&packet.Disconnect{})
				c.expectClosed()
			},
		},
		{
			name: "a protocol violation publishes the will",
			will: packet.Publish{Topic: "will/violation", Payload: []byte("gone"), QoS: 2},
			end: func(c *rawClient) {
				c.sendBytes([]byte{0x60, 0x02, 0x00, 0x01}) // PUBREL with flags 0: malformed [MQTT-3.6.1-1]
				c.expectClosed()
			},
			wantWill: true,
		},
		{
			name: "keepalive expiry publishes the will", // [MQTT-3.1.2-24]
			will: packet.Publish{Topic: "will/keepalive", Payload: []byte("silent"), QoS: 0},
			keep: 1,
			end:  func(c *rawClient) { c.expectClosed() }, wantWill: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keep := tt.keep
			if keep == 0 {
				keep = 60
			}
			c := willConnect(t, addr, uniqueID(t, "c"), true, keep, &tt.will)
			tt.end(c)
			waitFor(t, "the broker to finish with the client", func() bool { return b.Stats().ClientsConnected == 2 })
			// A will is published after the client is counted out: wait for
			// it before the marker, which (when no will is due) shows that
			// none came.
			if tt.wantWill {
				m := in.expect(t, tt.will.Topic, string(tt.will.Payload))
				if m.Qos() != tt.will.QoS || m.Retained() {
					t.Errorf("will QoS %d retained %v, want QoS %d, RETAIN 0", m.Qos(), m.Retained(), tt.will.QoS)
				}
			}
			publish(t, marker, "will/marker", 1, false, tt.name)
			in.expect(t, "will/marker", tt.name)
		})
	}
}

func TestBroker_will_retained(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	c := willConnect(t, addr, uniqueID(t, "c"), true, 60, &packet.Publish{Topic: "will/status", Payload: []byte("offline"), QoS: 1, Retain: true})
	_ = c.conn.Close()
	var m map[string]string
	waitFor(t, "the will to be retained", func() bool { // [MQTT-3.1.2-17]
		m = payloads(retainedOf(t, addr, "will/status", 1))
		return m["will/status"] == "offline"
	})
}

// A client that keeps talking within its keep alive stays connected.
func TestBroker_keepAlive_kept(t *testing.T) {
	_, addr := startBroker(t, testOptions(t))
	c := dialRaw(t, addr)
	c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: uniqueID(t, "c"), CleanSession: true, KeepAlive: 1})
	c.connack()
	for range 5 { // 2.5 s: well past the 1.5 s limit, had the deadline not moved
		time.Sleep(500 * time.Millisecond)
		c.send(&packet.Pingreq{})
		c.expectPacket(&packet.Pingresp{})
	}
}

// A takeover publishes the old connection's will only if a session ends,
// as Mosquitto does: not when a persistent session continues.
func TestBroker_will_takeover(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	sub := paho(t, addr, uniqueID(t, "sub"), true)
	in := subscribe(t, sub, "tw/#", 1)
	tests := []struct {
		name             string
		oldClean, nClean bool
		wantWill         bool
	}{
		{"persistent resumed by persistent", false, false, false},
		{"clean taken over", true, true, true},
		{"persistent replaced by clean", false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := uniqueID(t, "c")
			old := willConnect(t, addr, id, tt.oldClean, 60, &packet.Publish{Topic: "tw/will", Payload: []byte(tt.name)})
			c, _ := connectRaw(t, addr, id, tt.nClean)
			old.expectClosed()
			waitFor(t, "the old connection to be cleaned up", func() bool { return b.Stats().ClientsConnected == 2 })
			publish(t, sub, "tw/marker", 1, false, tt.name)
			if tt.wantWill {
				in.expect(t, "tw/will", tt.name)
			}
			in.expect(t, "tw/marker", tt.name)
			c.send(&packet.Disconnect{})
			c.expectClosed()
			waitFor(t, "the new connection to be cleaned up", func() bool { return b.Stats().ClientsConnected == 1 })
		})
	}
}
