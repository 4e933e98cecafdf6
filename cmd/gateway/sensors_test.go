package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// uart is a pseudo-terminal standing in for a serial device: the gateway
// opens Path; the test writes lines to the master side until the test ends.
type uart struct {
	pty  *sensorstest.PTY
	stop chan struct{}
	wg   sync.WaitGroup
}

// newUART opens a pty pair and writes lines (cycling) every 100 ms to it,
// as a device printing readings would, until the test ends. Output echoed
// back by the terminal before the gateway sets raw mode is drained.
func newUART(t *testing.T, lines ...string) *uart {
	t.Helper()
	pty, err := sensorstest.OpenPTY()
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	u := &uart{pty: pty, stop: make(chan struct{})}
	u.wg.Add(2)
	go func() {
		defer u.wg.Done()
		_, _ = io.Copy(io.Discard, pty.Master)
	}()
	go func() {
		defer u.wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			_ = pty.Master.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = pty.Master.WriteString(lines[i%len(lines)] + "\r\n")
			select {
			case <-u.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		close(u.stop)
		pty.Close()
		u.wg.Wait()
	})
	return u
}

// nmea returns "$body*hh" with the checksum (XOR of the body's bytes).
func nmea(body string) string {
	var sum byte
	for i := 0; i < len(body); i++ {
		sum ^= body[i]
	}
	return fmt.Sprintf("$%s*%02X", body, sum)
}

// fakeW1 builds a 1-wire sysfs tree with one DS18B20 reading 21.562 °C.
func fakeW1(t *testing.T, root string) {
	t.Helper()
	dev := filepath.Join(root, "28-000000000001")
	if err := os.MkdirAll(dev, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dev, "temperature"), []byte("21562\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// reading is one expected quantity: its unit and value (NaN = any value).
type reading struct {
	unit  string
	value float64
	tol   float64
}

// waitReadings waits until sub got a message on every topic of want, then
// checks the last one of each: the reading contract, the unit and, unless
// NaN, the value.
func waitReadings(t *testing.T, p *proc, sub *client, want map[string]reading) {
	t.Helper()
	missing := func() []string {
		var miss []string
		for topic := range want {
			if len(sub.on(topic)) == 0 {
				miss = append(miss, topic)
			}
		}
		sort.Strings(miss)
		return miss
	}
	waitFor(t, mqtttest.DefaultWait, "every quantity of every sensor", func() bool { return len(missing()) == 0 }, func() string {
		return fmt.Sprintf("missing %v; got %s; log:\n%s", missing(), topicsOf(sub), p.LogTail(30))
	})
	for topic, w := range want {
		m, _ := sub.last(topic)
		v, unit := checkReading(t, topic, m.Payload)
		if unit != w.unit {
			t.Errorf("%s: unit %q, want %q", topic, unit, w.unit)
		}
		if !math.IsNaN(w.value) && math.Abs(v-w.value) > w.tol {
			t.Errorf("%s: value %v, want %v", topic, v, w.value)
		}
	}
}

// TestSensors_EndToEnd: sim, serial (JSON lines and NMEA over a pty) and
// ds18b20 (fake sysfs) sensors in the real binary: a Paho subscriber gets
// every quantity on its topic with the contract JSON and the right value.
func TestSensors_EndToEnd(t *testing.T) {
	jsonUART := newUART(t, `{"temperature": 22.5, "env": {"rh": 41.25}, "name": "ignored"}`)
	gps := newUART(t,
		nmea("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"),
		nmea("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"))
	cfg := baseConfig + fmt.Sprintf(`sensors:
  - {name: sim1, driver: sim, interval: 200ms, quantities: [temperature, pressure]}
  - {name: mcu, driver: serial, port: %s, baud: 115200, format: json, interval: 200ms}
  - {name: gps, driver: serial, port: %s, baud: 9600, format: nmea, interval: 200ms}
  - {name: probe, driver: ds18b20, sysfs_root: @DIR@/w1, device: 28-000000000001, interval: 200ms}
  - {name: probes, driver: ds18b20, sysfs_root: @DIR@/w1, interval: 200ms}
`, jsonUART.pty.Path, gps.pty.Path)
	p := newProc(t, cfg)
	fakeW1(t, filepath.Join(p.Dir, "w1"))
	p.Start()

	want := map[string]reading{
		"sensors/sim1/temperature":       {"°C", math.NaN(), 0},
		"sensors/sim1/pressure":          {"hPa", math.NaN(), 0},
		"sensors/mcu/temperature":        {"", 22.5, 1e-9},
		"sensors/mcu/env_rh":             {"", 41.25, 1e-9},
		"sensors/gps/latitude":           {"°", 48.1173, 1e-4},
		"sensors/gps/longitude":          {"°", 11.516667, 1e-4},
		"sensors/gps/altitude":           {"m", 545.4, 1e-9},
		"sensors/gps/fix":                {"", 1, 0},
		"sensors/gps/satellites":         {"", 8, 0},
		"sensors/gps/speed":              {"km/h", 22.4 * 1.852, 1e-2},
		"sensors/probe/temperature":      {"°C", 21.562, 1e-9},
		"sensors/probes/28-000000000001": {"°C", 21.562, 1e-9},
	}
	sub := connectLocal(t, p, clientOpts{})
	sub.sub("sensors/#", 1)
	waitReadings(t, p, sub, want)
	for _, m := range sub.messages() {
		if strings.HasSuffix(m.Topic, "/status") {
			if st := stateOf(m.Payload); st != "ok" {
				t.Errorf("%s: %s, want state ok", m.Topic, m.Payload)
			}
			continue
		}
		if _, ok := want[m.Topic]; !ok {
			t.Errorf("unexpected topic %q: %s", m.Topic, m.Payload)
		}
	}
}

// TestSensors_MissingDevice: a ds18b20 whose sysfs tree does not exist and
// a bme280 on an I2C bus that does not exist: the gateway runs, the other
// sensor publishes, and each broken sensor's <topic>/status says error.
func TestSensors_MissingDevice(t *testing.T) {
	p := startGateway(t, baseConfig+`sensors:
  - {name: fine, driver: sim, interval: 200ms, quantities: [temperature]}
  - {name: nowire, driver: ds18b20, sysfs_root: @DIR@/no-such-w1, interval: 200ms}
  - {name: nobus, driver: bme280, bus: "99", address: 0x76, interval: 200ms}
`)
	sub := connectLocal(t, p, clientOpts{})
	sub.sub("sensors/#", 1)
	for _, topic := range []string{"sensors/nowire/status", "sensors/nobus/status"} {
		var last string
		waitFor(t, mqtttest.DefaultWait, topic+" state error", func() bool {
			m, ok := sub.last(topic)
			last = string(m.Payload)
			return ok && stateOf(m.Payload) == "error"
		}, func() string { return "last " + last + "\n" + p.LogTail(20) })
		m, _ := sub.last(topic)
		st := jsonObject(t, topic, m.Payload)
		if e, _ := st["error"].(string); e == "" {
			t.Errorf("%s: no error text in %s", topic, m.Payload)
		}
	}
	mqtttest.WaitFor(t, func() bool { return len(sub.on("sensors/fine/temperature")) >= 3 }, "readings of the working sensor")
	for _, m := range sub.messages() {
		if strings.HasPrefix(m.Topic, "sensors/nowire/") || strings.HasPrefix(m.Topic, "sensors/nobus/") {
			if !strings.HasSuffix(m.Topic, "/status") {
				t.Errorf("reading from a sensor without a device: %s %s", m.Topic, m.Payload)
			}
		}
	}
	if !p.running() {
		t.Fatalf("gateway exited: %v", p.ExitErr())
	}
}
