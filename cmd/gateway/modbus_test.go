package main

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/sensors/modbus/modbustest"
)

// TestGateway_Modbus_EndToEnd: modbus sensors in the real binary read an
// independent server (pymodbus) over Modbus TCP and over RTU on a
// pseudo-terminal pair (two sensors, units 1 and 2, sharing the line), and
// publish the decoded values with their units; a
// point past the device's registers makes the status name the exception
// while the other points are published; the TCP server stopped turns its
// sensor's status to error (the RTU sensor carries on) and back to ok when
// it returns on the same port.
func TestGateway_Modbus_EndToEnd(t *testing.T) {
	tcp := modbustest.StartTCP(t)
	rtu := modbustest.StartRTU(t, 19200)
	p := newProc(t, baseConfig+`sensors:
  - name: meter
    driver: modbus
    address: tcp://`+tcp.Addr+`
    unit_id: 1
    request_timeout: 1s                      # generous: pymodbus on a loaded machine
    timeout: 2s
    interval: 500ms
    points:
      - {quantity: voltage, address: 6, type: float32, unit: V}
      - {quantity: current, address: 8, type: float32, word_order: low_first, unit: A}
      - {quantity: temperature, address: 0, scale: 0.1, unit: "°C"}
      - {quantity: setpoint, address: 1, type: int16, scale: 0.1, unit: "°C"}
      - {quantity: balance, address: 4, type: int32, scale: 0.01}
      - {quantity: frequency, table: input, address: 0, type: float32, unit: Hz}
      - {quantity: pump, table: coil, address: 5}
  - name: plc
    driver: modbus
    port: `+rtu.Addr+`
    baud: 19200
    unit_id: 2
    request_timeout: 1s                      # the same on every sensor of the line
    timeout: 2s
    interval: 200ms
    points:
      - {quantity: level, address: 0, type: uint32}
      - {quantity: door, table: discrete, address: 0}
      - {quantity: missing, address: 100}
  - name: boiler
    driver: modbus
    port: `+rtu.Addr+`
    baud: 19200
    unit_id: 1
    request_timeout: 1s
    timeout: 2s
    interval: 300ms
    points:
      - {quantity: temperature, address: 0, scale: 0.1, unit: "°C"}
      - {quantity: flow, table: input, address: 0, type: float32}
`)
	p.Start()

	want := map[string]reading{
		"sensors/meter/voltage":      {"V", 230.5, 1e-9},
		"sensors/meter/current":      {"A", -12.25, 1e-9},
		"sensors/meter/temperature":  {"°C", 21.5, 1e-9},
		"sensors/meter/setpoint":     {"°C", -1, 1e-9},
		"sensors/meter/balance":      {"", -1234.56, 1e-9},
		"sensors/meter/frequency":    {"Hz", 50, 1e-9},
		"sensors/meter/pump":         {"", 1, 0},
		"sensors/plc/level":          {"", 42<<16 | 43, 0},
		"sensors/plc/door":           {"", 1, 0},
		"sensors/boiler/temperature": {"°C", 21.5, 1e-9},
		"sensors/boiler/flow":        {"", 50, 1e-9},
	}
	sub := subscribeReadings(t, p, want)
	waitStatus(t, p, sub, "sensors/plc/status", "error", "modbus: unit 2, holding 100: illegal data address")

	tcp.Stop()
	waitStatus(t, p, sub, "sensors/meter/status", "error", "modbus: ")
	before := len(sub.on("sensors/plc/door"))
	mqtttest.WaitFor(t, func() bool { return len(sub.on("sensors/plc/door")) >= before+2 }, "readings of the RTU sensors")

	tcp.Start()
	waitStatus(t, p, sub, "sensors/meter/status", "ok", "")
	if !p.running() {
		t.Fatalf("gateway exited: %v", p.ExitErr())
	}
	if log := p.LogTail(200); strings.Count(log, "sensor=meter") > 10 {
		t.Errorf("the meter's outage logged more than a few lines:\n%s", log)
	}
}

// TestGateway_Modbus_MosquittoSub: the real mosquitto_sub client receives
// a float32 the gateway read from pymodbus over Modbus TCP.
func TestGateway_Modbus_MosquittoSub(t *testing.T) {
	tcp := modbustest.StartTCP(t)
	p := startGateway(t, baseConfig+`sensors:
  - name: meter
    driver: modbus
    address: tcp://`+tcp.Addr+`
    interval: 200ms
    points:
      - {quantity: current, address: 8, type: float32, word_order: low_first, unit: A}
`)
	for _, payload := range mosquittoSub(t, p, "sensors/meter/current", 2) {
		if v, unit := checkReading(t, "sensors/meter/current", payload); v != -12.25 || unit != "A" {
			t.Errorf("reading %v %q, want -12.25 A", v, unit)
		}
	}
}

// TestGateway_Modbus_Check: gateway check lists every bad modbus option
// with its file:line, points' keys on their own lines (writable on an input
// register too), and exits 1.
func TestGateway_Modbus_Check(t *testing.T) {
	wantCheckErrors(t, `  - name: meter
    driver: modbus
    address: tcp://meter.local
    unit_id: 300
    interval: 1s
    points:
      - {quantity: voltage, table: holding_register, address: 0}
      - quantity: voltage
        address: 70000
        type: float
      - {quantity: relay, table: coil, address: 1, type: uint16}
      - quantity: frequency
        table: input
        address: 0
        writable: true
`,
		"g.yaml:6: sensors[0].unit_id: 300 is outside 0…255",
		`g.yaml:9: sensors[0].points[0].table: "holding_register" is not one of [holding input coil discrete]`,
		`g.yaml:10: sensors[0].points[1].quantity: "voltage" is also the quantity of points[0]`,
		"g.yaml:11: sensors[0].points[1].address: 70000 is outside 0…65535 for a uint16",
		`g.yaml:12: sensors[0].points[1].type: "float" is not one of [uint16 int16 uint32 int32 float32 uint64 int64 float64]`,
		`g.yaml:13: sensors[0].points[2].type: a coil is a bit: its type is bool, not "uint16"`,
		"g.yaml:17: sensors[0].points[3].writable: input points are read-only: only holding registers and coils can be written",
	)
}
