package main

import (
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// TestGateway_UplinkState_FollowsAtOnce: $SYS/gateway/uplink/state changes
// within a second of the bridge's state, both ways, although the $SYS
// interval is an hour; after the outage the log has one "backlog drained"
// line with what was queued and drained.
func TestGateway_UplinkState_FollowsAtOnce(t *testing.T) {
	up := mqtttest.StartMosquitto(t, "")
	px := mqtttest.NewProxy(t, up)
	cfg := strings.Replace(bridgeConfig(px.Addr(), 1), "sys_interval: 1s", "sys_interval: 1h", 1)
	p := startGateway(t, cfg)
	c := connectLocal(t, p, clientOpts{})
	c.sub(uplinkStateTopic, 0)
	waitUplinkState(t, c, "connected")

	px.SetMode(mqtttest.Reset)
	waitUplinkState(t, c, "disconnected")
	publishAll(t, c, "sensors/x", "out", 1, 50, 32)
	px.SetMode(mqtttest.Pass)
	waitUplinkState(t, c, "connected")
	line := p.WaitLog("bridge: backlog drained")
	for _, want := range []string{"queued=50", "drained=50"} {
		if !strings.Contains(line, want) {
			t.Errorf("drained line %q lacks %q", line, want)
		}
	}
}

// waitUplinkState waits up to a second for the last uplink state c saw.
func waitUplinkState(t *testing.T, c *client, want string) {
	t.Helper()
	var got string
	waitFor(t, time.Second, "uplink state "+want, func() bool {
		m, ok := c.last(uplinkStateTopic)
		got = string(m.Payload)
		return ok && got == want
	}, func() string { return "last " + got })
}

// TestGateway_Shutdown_SensorsOffline: on a clean shutdown each sensor's
// retained <topic>/status says {"state":"offline"}, locally (a subscriber
// sees it before the broker closes) and upstream (a later subscriber gets
// it retained), so Home Assistant shows the entities unavailable.
func TestGateway_Shutdown_SensorsOffline(t *testing.T) {
	up := mqtttest.StartMosquitto(t, "")
	p := startGateway(t, bridgeConfig(up, 1)+`sensors:
  - {name: room, driver: sim, interval: 100ms, qos: 1, quantities: [temperature]}
`)
	c := connectLocal(t, p, clientOpts{})
	c.sub("sensors/room/status", 1)
	upSub := mqtttest.Subscribe(t, up, "gw/sensors/room/#")
	mqtttest.WaitFor(t, func() bool { return upSub.Count("gw/sensors/room/temperature") > 0 }, "a reading upstream")
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if m, ok := c.last("sensors/room/status"); !ok || stateOf(m.Payload) != "offline" {
		t.Errorf("local status at shutdown = %q, want state offline", m.Payload)
	}
	late := mqtttest.Subscribe(t, up, "gw/sensors/room/status")
	mqtttest.WaitFor(t, func() bool { return late.Len() > 0 }, "retained status upstream")
	if m := late.Messages()[0]; stateOf(m.Payload) != "offline" || !m.Retained {
		t.Errorf("upstream retained status = %+v %q, want retained state offline", m, m.Payload)
	}
}
