package main

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// TestCLI_Check_Drivers: the driver table knows every I2C and serial sensor
// driver (a valid file checks clean) and gateway check reports each
// driver's bad option as file:line: key: message, did-you-mean included.
func TestCLI_Check_Drivers(t *testing.T) {
	stdout, stderr, code := runCLI(t, ".", "check", "-config", "testdata/check-drivers.yaml")
	if code != 0 || stderr != "" {
		t.Fatalf("valid file: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	const file = "testdata/check-drivers-errors.yaml"
	_, stderr, code = runCLI(t, ".", "check", "-config", file)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstderr: %s", code, stderr)
	}
	want := []string{
		":6: sensors[0].address: 0x46 is not an address of the sht3x: want one of 0x44, 0x45",
		`:7: sensors[1].repeatability: unknown option for driver sht4x`,
		`:8: sensors[2].bus: "i2c-1" is not an I²C bus`,
		`:9: sensors[3].resoluton: unknown option for driver bh1750 (did you mean "resolution"?)`,
		`:12: sensors[4].channels: "ain4" is not an input`,
		":12: sensors[4].channels: ain0: 5 is not a full-scale range",
		":14: sensors[5].data_rate: 860 is not a data rate of the ads1015",
		":15: sensors[6].low_power: want true or false, got maybe",
		":16: sensors[7].address: 0x59 is not an address of the sgp30",
		":17: sensors[8].shunt_ohms: 3.2 A through 1 Ω is 3.200 V, beyond the ±0.32 V shunt range",
		":18: sensors[9].address: 0x48 is not an address of the mcp9808",
		`:19: sensors[10].adress: unknown option for driver tmp102 (did you mean "address"?)`,
		`:20: sensors[11].mode: "lazy" is not one of [passive active]`,
		":21: sensors[12].port: missing required option",
		":22: sensors[13].address: 0x40 is not an address of the hdc302x",
		`:23: sensors[14].companion: no sensor named "kitchn" (sensors: [adc adc12 aht20 air bedroom bh1750 cellar co2 co2b freezer pm pm2 rack sht3x sht4x solar])`,
		":24: sensors[15].ambient_pressure: set altitude or ambient_pressure, not both",
		":24: sensors[15].persist_settings: want true or false, got yes",
		":25: sensors[16].counts: want true or false, got 1",
	}
	got := lines(stderr)
	for _, w := range want {
		if !strings.Contains(stderr, file+w) {
			t.Errorf("check output lacks %q", file+w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d error lines, want %d:\n%s", len(got), len(want), stderr)
	}
}

// TestGateway_SerialDrivers_EndToEnd: an MH-Z19 and a PMS5003 simulated on
// pseudo-terminals, read by the real binary: their readings reach a
// subscriber with units; a corrupted answer turns the sensor's status to
// error and publishes nothing, and the next good answer brings it back.
// An sht4x on a bus that does not exist reports error and does not stop
// the gateway.
func TestGateway_SerialDrivers_EndToEnd(t *testing.T) {
	readCO2 := []byte{0xFF, 0x01, 0x86, 0x00, 0x00, 0x00, 0x00, 0x00, 0x79}
	co2, pm := &sensorstest.Script{}, &sensorstest.Script{}
	co2.Always(readCO2, []byte{0xFF, 0x86, 0x02, 0x60, 0x47, 0x00, 0x00, 0x00, 0xD1}) // 608 ppm, the manual's example
	pm.Always([]byte{0x42, 0x4D, 0xE2, 0x00, 0x00, 0x01, 0x71}, pmsFrame(12, 20, 25)) // passive read
	co2UART := sensorstest.NewUART(t, co2.Answer)
	pmUART := sensorstest.NewUART(t, pm.Answer)
	p := startGateway(t, baseConfig+fmt.Sprintf(`sensors:
  - {name: co2, driver: mhz19, port: %s, interval: 200ms, timeout: 3s}
  - {name: pm, driver: pms5003, port: %s, interval: 200ms, timeout: 3s}
  - {name: nobus, driver: sht4x, bus: "99", interval: 200ms}
`, co2UART.Path, pmUART.Path))
	sub := connectLocal(t, p, clientOpts{})
	sub.sub("sensors/#", 1)
	waitReadings(t, p, sub, map[string]reading{
		"sensors/co2/co2":            {"ppm", 608, 0},
		"sensors/pm/pm1":             {"µg/m³", 12, 0},
		"sensors/pm/pm25":            {"µg/m³", 20, 0},
		"sensors/pm/pm10":            {"µg/m³", 25, 0},
		"sensors/pm/particles_0_3um": {"/0.1L", 0, 0},
		"sensors/pm/particles_10um":  {"/0.1L", 0, 0},
	})
	waitFor(t, mqtttest.DefaultWait, "sensors/nobus/status error", func() bool {
		m, ok := sub.last("sensors/nobus/status")
		return ok && stateOf(m.Payload) == "error"
	}, func() string { return p.LogTail(20) })

	bad := []byte{0xFF, 0x86, 0x27, 0x10, 0x47, 0x00, 0x00, 0x00, 0x00} // 10000 ppm with a wrong checksum
	co2.Always(readCO2, bad)
	waitFor(t, mqtttest.DefaultWait, "sensors/co2/status error naming the checksum", func() bool {
		m, ok := sub.last("sensors/co2/status")
		return ok && stateOf(m.Payload) == "error" && strings.Contains(string(m.Payload), "checksum")
	}, func() string { m, _ := sub.last("sensors/co2/status"); return string(m.Payload) + "\n" + p.LogTail(20) })
	co2.Always(readCO2, []byte{0xFF, 0x86, 0x04, 0xB0, 0x47, 0x00, 0x00, 0x00, 0x7F}) // 1200 ppm
	waitFor(t, mqtttest.DefaultWait, "sensors/co2/status ok again", func() bool {
		m, ok := sub.last("sensors/co2/status")
		return ok && stateOf(m.Payload) == "ok"
	}, func() string { return p.LogTail(20) })
	for _, m := range sub.on("sensors/co2/co2") {
		if v, _ := checkReading(t, m.Topic, m.Payload); v != 608 && v != 1200 {
			t.Errorf("published %v ppm: a corrupted answer got through", v)
		}
	}
	if !p.running() {
		t.Fatalf("gateway exited: %v", p.ExitErr())
	}
}

// pmsFrame is a PMS5003 data frame with the atmospheric PM1.0, PM2.5 and
// PM10 values given and a correct checksum (the sum of the bytes before it).
func pmsFrame(pm1, pm25, pm10 uint16) []byte {
	b := []byte{0x42, 0x4D, 0x00, 0x1C}
	for _, w := range []uint16{pm1, pm25, pm10, pm1, pm25, pm10, 0, 0, 0, 0, 0, 0, 0} {
		b = binary.BigEndian.AppendUint16(b, w)
	}
	var s uint16
	for _, x := range b {
		s += uint16(x)
	}
	return binary.BigEndian.AppendUint16(b, s)
}
