package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// fakeIIO writes an IIO device directory dir under root with files, each
// value ending in "\n" as sysfs writes it.
func fakeIIO(t *testing.T, root, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(root, dir, name), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// bme680Files and ina226Files copy what the kernel's bme680_core.c and
// ina2xx-adc.c create (see sensors/iio/fixtures_test.go for the details).
var (
	bme680Files = map[string]string{
		"name": "bme680", "in_temp_input": "23450", "in_temp_raw": "2345", "in_temp_scale": "10",
		"in_pressure_input": "101.325000000", "in_humidityrelative_input": "43.215000000",
		"in_resistance_input": "82986", "in_temp_oversampling_ratio": "8",
	}
	ina226Files = map[string]string{
		"name": "ina226", "in_voltage0_raw": "2000", "in_voltage0_scale": "0.002500000",
		"in_voltage1_raw": "9600", "in_voltage1_scale": "1.250000000", "in_power2_raw": "240",
		"in_power2_scale": "25.000000000", "in_current3_raw": "500", "in_current3_scale": "1",
		"in_sampling_frequency": "114",
	}
)

// TestGateway_IIO_EndToEnd: iio sensors on a fake sysfs tree in the real
// binary publish converted readings with their units; an unplugged device
// turns its status to error (the gateway and the other sensor carry on)
// and back to ok when it returns.
func TestGateway_IIO_EndToEnd(t *testing.T) {
	p := newProc(t, baseConfig+`sensors:
  - {name: env, driver: iio, device: bme680, sysfs_root: @DIR@/iio, interval: 200ms}
  - name: power
    driver: iio
    device: ina226
    sysfs_root: @DIR@/iio
    channels: [voltage1, current3]
    rename: {voltage1: bus_voltage}
    interval: 200ms
`)
	root := filepath.Join(p.Dir, "iio")
	fakeIIO(t, root, "iio:device0", bme680Files)
	fakeIIO(t, root, "iio:device1", ina226Files)
	p.Start()

	want := map[string]reading{
		"sensors/env/temperature":   {"°C", 23.45, 1e-9},
		"sensors/env/pressure":      {"hPa", 1013.25, 1e-9},
		"sensors/env/humidity":      {"%", 43.215, 1e-9},
		"sensors/env/resistance":    {"Ω", 82986, 1e-9},
		"sensors/power/bus_voltage": {"V", 12, 1e-9},
		"sensors/power/current3":    {"A", 0.5, 1e-9},
	}
	sub := subscribeReadings(t, p, want)

	if err := os.RemoveAll(filepath.Join(root, "iio:device0")); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, p, sub, "sensors/env/status", "error", "bme680")
	before := len(sub.on("sensors/power/bus_voltage"))
	mqtttest.WaitFor(t, func() bool { return len(sub.on("sensors/power/bus_voltage")) >= before+2 }, "readings of the other iio sensor")

	fakeIIO(t, root, "iio:device2", bme680Files) // back, under another number
	waitStatus(t, p, sub, "sensors/env/status", "ok", "")
	if !p.running() {
		t.Fatalf("gateway exited: %v", p.ExitErr())
	}
}

// subscribeReadings subscribes to sensors/# on p's broker, waits for a
// reading on every topic of want (checked as waitReadings does), and fails
// for any other topic but a status.
func subscribeReadings(t *testing.T, p *proc, want map[string]reading) *client {
	t.Helper()
	sub := connectLocal(t, p, clientOpts{})
	sub.sub("sensors/#", 1)
	waitReadings(t, p, sub, want)
	for _, m := range sub.messages() {
		if _, ok := want[m.Topic]; !ok && !strings.HasSuffix(m.Topic, "/status") {
			t.Errorf("unexpected topic %q: %s", m.Topic, m.Payload)
		}
	}
	return sub
}

// waitStatus waits until the last status on topic has state and contains
// text.
func waitStatus(t *testing.T, p *proc, sub *client, topic, state, text string) {
	t.Helper()
	waitFor(t, mqtttest.DefaultWait, topic+" "+state, func() bool {
		m, ok := sub.last(topic)
		return ok && stateOf(m.Payload) == state && strings.Contains(string(m.Payload), text)
	}, func() string { m, _ := sub.last(topic); return string(m.Payload) + "\n" + p.LogTail(20) })
}

// TestGateway_IIO_Check: gateway check lists every bad iio option with its
// file:line and exits 1.
func TestGateway_IIO_Check(t *testing.T) {
	wantCheckErrors(t, `  - name: env
    driver: iio
    interval: 1s
    channels: [in_temp_input]
    rename: {temp: "a/b"}
    retries: 99
`,
		"g.yaml:3: sensors[0].device: missing required option",
		`g.yaml:6: sensors[0].channels: bad channel id "in_temp_input"`,
		`g.yaml:7: sensors[0].rename: temp: sensors: bad quantity name: "a/b"`,
		"g.yaml:8: sensors[0].retries: 99 is outside 0…10",
	)
}

// wantCheckErrors runs gateway check on a config g.yaml whose sensors list
// (from line 3) is entries, and wants exit code 1 and every line of want
// in its output.
func wantCheckErrors(t *testing.T, entries string, want ...string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "g.yaml")
	yaml := "gateway: {id: t, data_dir: " + dir + "}\nsensors:\n" + entries
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, dir, "check", "-config", cfg)
	if code != 1 {
		t.Errorf("exit code %d, want 1; stderr:\n%s", code, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("check output lacks %q:\n%s", w, stderr)
		}
	}
}
