package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/edgegw/edgegw/sensors/modbus/modbustest"
)

// TestGateway_Modbus_Write: mosquitto_pub, as the user the ACL lets write,
// commands a writable holding register (int16, scale 0.1) and a writable
// coil of pymodbus through the real binary: pymodbus's own client finds
// the new values in the server, and the values read back are published.
// The same commands from a user the ACL denies, and a value out of the
// int16's range, write nothing; the refusal is published on set/result.
// Home Assistant discovery announces the points as number and switch.
func TestGateway_Modbus_Write(t *testing.T) {
	pub := mosquittoTool(t, "mosquitto_pub")
	srv := modbustest.StartTCP(t)
	p := startGateway(t, baseConfig+`  allow_anonymous: false
  users:
    - {username: operator, password_hash: "`+testHash+`"}
    - {username: viewer, password_hash: "`+testHash+`"}
  acl:
    - {username: operator, topic: "sensors/+/+/set", access: write}
    - {topic: "sensors/+/+/set", access: deny}
    - {topic: "#", access: readwrite}
homeassistant: {discovery: true}
sensors:
  - name: boiler
    driver: modbus
    address: tcp://`+srv.Addr+`
    request_timeout: 1s
    timeout: 2s
    interval: 2s
    retain: true                            # the first reading comes before the client subscribes
    points:
      - {quantity: setpoint, address: 1, type: int16, scale: 0.1, unit: "°C", writable: true}
      - {quantity: pump, table: coil, address: 1, writable: true}
`)
	sub := connectLocal(t, p, clientOpts{Username: "viewer", Password: "pw"})
	sub.sub("sensors/#", 1)
	sub.sub("homeassistant/#", 1)
	waitFor(t, remoteWait, "first readings", func() bool {
		return len(sub.on("sensors/boiler/setpoint")) > 0 && len(sub.on("sensors/boiler/pump")) > 0
	}, func() string { return p.LogTail(30) })
	host, port := splitAddr(t, p.Addr)
	send := func(user, topic, payload string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, pub, "-h", host, "-p", port, "-u", user, "-P", "pw", "-q", "1",
			"-t", topic, "-m", payload).CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_pub as %s: %v\n%s", user, err, out)
		}
	}

	// Denied by the ACL: nothing reaches the poller.
	send("viewer", "sensors/boiler/setpoint/set", "99")
	send("viewer", "sensors/boiler/pump/set", "ON")
	// Allowed; the first out of range.
	send("operator", "sensors/boiler/setpoint/set", `{"value": 4000}`)
	send("operator", "sensors/boiler/setpoint/set", "-12.3")
	send("operator", "sensors/boiler/pump/set", "ON")
	waitFor(t, remoteWait, "both results", func() bool {
		return len(sub.on("sensors/boiler/setpoint/set/result")) == 2 && len(sub.on("sensors/boiler/pump/set/result")) == 1
	}, func() string { return p.LogTail(30) })

	if got := srv.Read(1, "holding", 1, 1); !slices.Equal(got, []int{0xFF85}) {
		t.Errorf("server holds %#x, want int16 -123", got)
	}
	if got := srv.Read(1, "coil", 1, 1); !slices.Equal(got, []int{1}) {
		t.Errorf("coil 1 = %v, want on", got)
	}
	if m, _ := sub.last("sensors/boiler/setpoint"); func() bool { v, u := checkReading(t, m.Topic, m.Payload); return v != -12.3 || u != "°C" }() {
		t.Errorf("setpoint read back: %s", m.Payload)
	}
	if m, _ := sub.last("sensors/boiler/pump"); func() bool { v, _ := checkReading(t, m.Topic, m.Payload); return v != 1 }() {
		t.Errorf("pump read back: %s", m.Payload)
	}
	var results []string
	for _, m := range append(sub.on("sensors/boiler/setpoint/set/result"), sub.on("sensors/boiler/pump/set/result")...) {
		var r struct {
			OK    bool     `json:"ok"`
			Value *float64 `json:"value"`
			Error string   `json:"error"`
		}
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			t.Fatal(err)
		}
		if r.Value != nil {
			results = append(results, fmt.Sprint(r.OK, " ", *r.Value))
		} else {
			results = append(results, fmt.Sprint(r.OK, " ", r.Error))
		}
	}
	want := []string{"false modbus: value out of range: setpoint = 4000: -3276.8…3276.7 fits a int16 with scale 0.1 and offset 0",
		"true -12.3", "true 1"}
	if !slices.Equal(results, want) {
		t.Errorf("results (the viewer's commands never arrive)\n%q\nwant\n%q", results, want)
	}

	var number, sw struct {
		CommandTopic string  `json:"command_topic"`
		Min          float64 `json:"min"`
		Max          float64 `json:"max"`
	}
	for _, c := range []struct {
		topic string
		v     any
	}{{"homeassistant/number/e2e/boiler_setpoint/config", &number}, {"homeassistant/switch/e2e/boiler_pump/config", &sw}} {
		m, ok := sub.last(c.topic)
		if !ok || json.Unmarshal(m.Payload, c.v) != nil {
			t.Fatalf("discovery %s: %s (found %v)", c.topic, m.Payload, ok)
		}
	}
	if number.CommandTopic != "sensors/boiler/setpoint/set" || number.Min != -3276.8 || number.Max != 3276.7 ||
		sw.CommandTopic != "sensors/boiler/pump/set" {
		t.Errorf("discovery: number %+v, switch %+v", number, sw)
	}
}
