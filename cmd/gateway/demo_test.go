package main

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// demoConfig is examples/demo.yaml with faster sensors, test ports, and $SYS
// every second.
const demoConfig = `gateway:
  id: demo
  data_dir: @DATADIR@
log: {level: info, format: text}
broker:
  listeners:
    - address: @ADDR@
    - address: @WSADDR@
      websocket: {path: /mqtt}
  allow_anonymous: true
  sys_interval: 1s
sensors:
  - name: demo
    driver: sim
    interval: 200ms
    qos: 1
    quantities: [temperature, humidity]
  - name: power
    driver: sim
    interval: 1s
    quantities: [voltage, current]
    waveform: random
    seed: 42
    process:
      voltage: {round: 1}
      current: {round: 2, deadband: 0.05, max_interval: 1m}
`

// demoUnits are the sim driver's units of the demo quantities.
var demoUnits = map[string]string{
	"sensors/demo/temperature": "°C",
	"sensors/demo/humidity":    "%",
	"sensors/power/voltage":    "V",
	"sensors/power/current":    "A",
}

// TestGateway_Run_DemoReadings: every quantity of the demo sensors arrives
// on <topic>/<quantity> with the contract JSON, repeatedly, to a Paho
// subscriber over TCP.
func TestGateway_Run_DemoReadings(t *testing.T) {
	p := startGateway(t, demoConfig)
	sub := connectLocal(t, p, clientOpts{})
	sub.sub("sensors/#", 1)

	for topic := range demoUnits {
		sub.waitTopic(topic)
	}
	// The 200 ms sensor keeps publishing: wait for a few more readings.
	mqtttest.WaitFor(t, func() bool { return len(sub.on("sensors/demo/temperature")) >= 4 },
		"4 readings of sensors/demo/temperature")

	for topic, unit := range demoUnits {
		ms := sub.on(topic)
		var prev time.Time
		for _, m := range ms {
			_, gotUnit := checkReading(t, topic, m.Payload)
			if gotUnit != unit {
				t.Errorf("%s: unit %q, want %q", topic, gotUnit, unit)
			}
			ts := tsOf(t, m.Payload)
			if ts.Before(prev) {
				t.Errorf("%s: ts went backwards: %v after %v", topic, ts, prev)
			}
			prev = ts
		}
	}
	for _, m := range sub.messages() {
		if strings.HasSuffix(m.Topic, "/status") {
			if st := stateOf(m.Payload); st != "ok" {
				t.Errorf("%s: state %q, want ok (payload %s)", m.Topic, st, m.Payload)
			}
			continue
		}
		if _, ok := demoUnits[m.Topic]; !ok {
			t.Errorf("unexpected topic %q (payload %q) under sensors/#", m.Topic, m.Payload)
		}
	}
	if v, _ := checkReading(t, "sensors/power/voltage", sub.on("sensors/power/voltage")[0].Payload); v != roundTo(v, 1) {
		t.Errorf("sensors/power/voltage = %v, want it rounded to 1 decimal (process.round: 1)", v)
	}
}

// TestGateway_Run_MosquittoSub: the real mosquitto_sub client receives a
// reading from the gateway's broker.
func TestGateway_Run_MosquittoSub(t *testing.T) {
	p := startGateway(t, demoConfig)
	for _, payload := range mosquittoSub(t, p, "sensors/demo/humidity", 2) {
		if _, unit := checkReading(t, "sensors/demo/humidity", payload); unit != "%" {
			t.Errorf("unit %q, want %%", unit)
		}
	}
}

// mosquittoSub runs the real mosquitto_sub client against p's broker until
// it got n messages on topic, and returns their payloads. It skips the
// test when mosquitto_sub is missing (and fails it when CI is set).
func mosquittoSub(t *testing.T, p *proc, topic string, n int) [][]byte {
	t.Helper()
	path := mosquittoTool(t, "mosquitto_sub")
	host, port := splitAddr(t, p.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-h", host, "-p", port, "-V", "mqttv311", "-q", "1",
		"-t", topic, "-C", strconv.Itoa(n), "-W", "30", "-v").CombinedOutput()
	if err != nil {
		t.Fatalf("mosquitto_sub: %v\n%s", err, out)
	}
	got := lines(string(out))
	if len(got) != n {
		t.Fatalf("mosquitto_sub printed %d lines, want %d:\n%s", len(got), n, out)
	}
	var payloads [][]byte
	for _, l := range got {
		tp, payload, ok := strings.Cut(l, " ")
		if !ok || tp != topic {
			t.Fatalf("mosquitto_sub line %q: want \"%s <json>\"", l, topic)
		}
		payloads = append(payloads, []byte(payload))
	}
	return payloads
}

// TestGateway_Run_WebSocket: Paho over ws://host:port/mqtt subscribes to
// readings, and what it publishes reaches a TCP client.
func TestGateway_Run_WebSocket(t *testing.T) {
	p := startGateway(t, demoConfig)
	ws := connect(t, "ws://"+p.WSAddr+"/mqtt", clientOpts{})
	ws.sub("sensors/demo/temperature", 1)
	checkReading(t, "sensors/demo/temperature", ws.waitTopic("sensors/demo/temperature").Payload)

	tcp := connectLocal(t, p, clientOpts{})
	tcp.sub("from/ws", 1)
	ws.pub("from/ws", 1, false, "hello over websocket")
	if m := tcp.waitTopic("from/ws"); string(m.Payload) != "hello over websocket" {
		t.Errorf("TCP client got %q, want the WebSocket client's message", m.Payload)
	}
}

// TestGateway_Run_Sys: $SYS/broker/version names the binary's version and
// $SYS/broker/clients/connected counts the clients (sys_interval 1s).
func TestGateway_Run_Sys(t *testing.T) {
	p := startGateway(t, demoConfig)
	c := connectLocal(t, p, clientOpts{})
	c.sub("$SYS/broker/version", 0)
	c.sub("$SYS/broker/clients/connected", 0)
	if v := c.waitTopic("$SYS/broker/version"); !strings.Contains(string(v.Payload), testVersion) {
		t.Errorf("$SYS/broker/version = %q, want it to contain %q", v.Payload, testVersion)
	}
	connectLocal(t, p, clientOpts{})
	connectLocal(t, p, clientOpts{}) // three clients now
	waitFor(t, mqtttest.DefaultWait, "$SYS/broker/clients/connected = 3", func() bool {
		m, ok := c.last("$SYS/broker/clients/connected")
		n, err := strconv.Atoi(string(m.Payload))
		return ok && err == nil && n == 3
	}, func() string { return "last value " + lastPayload(c, "$SYS/broker/clients/connected") })
}

func lastPayload(c *client, topic string) string {
	m, _ := c.last(topic)
	return string(m.Payload)
}
