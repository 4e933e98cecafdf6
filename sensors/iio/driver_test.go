package iio_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/iio"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

func spec(opts map[string]sensors.Option) sensors.Spec {
	return sensors.Spec{Name: "env", Driver: "iio", File: "g.yaml", Line: 20, Interval: time.Second,
		Options: sensors.Options{File: "g.yaml", Driver: "iio", Values: opts}}
}

func TestDriver_Check(t *testing.T) {
	valid := spec(map[string]sensors.Option{
		"device":      {Value: "ina226", Line: 21},
		"sysfs_root":  {Value: "/tmp/sys", Line: 22},
		"channels":    {Value: []any{"voltage1", "current3"}, Line: 23},
		"rename":      {Value: map[string]any{"voltage1": "bus_voltage"}, Line: 24},
		"retries":     {Value: 5, Line: 25},
		"retry_delay": {Value: "1s", Line: 26},
	})
	if err := iio.Driver().Check(valid); err != nil {
		t.Errorf("valid: %v", err)
	}
	tests := []struct {
		name string
		opts map[string]sensors.Option
		want []string
	}{
		{"no device", map[string]sensors.Option{}, []string{"g.yaml:20: device: missing required option"}},
		{"bad values", map[string]sensors.Option{
			"device":      {Value: "../x", Line: 21},
			"sysfs_root":  {Value: "", Line: 22},
			"channels":    {Value: []any{"in_temp_input", "temp", "temp"}, Line: 23},
			"retries":     {Value: 11, Line: 24},
			"retry_delay": {Value: "soon", Line: 25},
			"chanels":     {Value: []any{"temp"}, Line: 26},
		}, []string{
			`g.yaml:21: device: bad device "../x"`,
			"g.yaml:22: sysfs_root: must not be empty",
			`g.yaml:23: channels: bad channel id "in_temp_input"`,
			`g.yaml:23: channels: "temp" listed twice`,
			"g.yaml:24: retries: 11 is outside 0…10",
			"g.yaml:25: retry_delay: want a duration",
			`g.yaml:26: chanels: unknown option for driver iio (did you mean "channels"?)`,
		}},
		{"bad renames", map[string]sensors.Option{
			"device": {Value: "bme680", Line: 21},
			"rename": {Value: map[string]any{"temp": "t", "pressure": "t", "Humidity": "h", "resistance": "a/b", "voltage0": 5}, Line: 22},
		}, []string{
			`g.yaml:22: rename: bad channel id "Humidity"`,
			`g.yaml:22: rename: pressure and temp both renamed to "t"`,
			`g.yaml:22: rename: resistance: sensors: bad quantity name: "a/b"`,
			"g.yaml:22: rename: voltage0: want a quantity name, got 5",
		}},
		{"rename not a map", map[string]sensors.Option{
			"device": {Value: "bme680", Line: 21},
			"rename": {Value: []any{"temp"}, Line: 22},
		}, []string{"g.yaml:22: rename: want a map of channel id to quantity name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := iio.Driver().Check(spec(tt.opts))
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Check = %v\nwant %q", err, w)
				}
			}
		})
	}
}

func TestDriver_Quantities(t *testing.T) {
	d := iio.Driver()
	qs, err := d.Quantities(spec(map[string]sensors.Option{
		"device":   {Value: "bme680"},
		"channels": {Value: []any{"temp", "humidityrelative", "pressure", "concentration_co2", "voltage1"}},
		"rename":   {Value: map[string]any{"voltage1": "battery_voltage"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range qs {
		got = append(got, q.Name+" "+q.Unit)
	}
	want := "temperature °C|humidity %|pressure hPa|co2 ppm|battery_voltage V"
	if strings.Join(got, "|") != want {
		t.Errorf("Quantities = %q, want %q", strings.Join(got, "|"), want)
	}
	if qs, err := d.Quantities(spec(map[string]sensors.Option{"device": {Value: "bme680"}})); qs != nil || err != nil {
		t.Errorf("without channels: %v, %v; want nil (learnt from the device)", qs, err)
	}
}

// TestPoller_flakyAndRemoved drives the driver through the real poller: a
// DHT11's EIO is retried within the poll (no error status, no bad value),
// an unplugged device gives an error status and recovers when it returns.
func TestPoller_flakyAndRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newSysfs(t)
		dir := fs.add(dht11)
		sp := spec(map[string]sensors.Option{"sysfs_root": {Value: fs.root}, "device": {Value: "dht11"}, "retry_delay": {Value: "100ms"}})
		sp.Topic = "sensors/env"
		s, err := iio.Driver().Open(sp, &sensorstest.Hardware{})
		if err != nil {
			t.Fatal(err)
		}
		flaky := &eio{file: "in_temp_input", errno: syscall.EIO, n: 2}
		iio.InjectFaults(s.(*iio.Dev), flaky.fail)
		pub := &sensorstest.Publisher{}
		p := sensors.NewPoller(sp, s, pub, sensors.PollerOptions{})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		time.Sleep(time.Second / 2)
		synctest.Wait()
		fs.remove(dir)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		fs.add(map[string]string{"name": "dht11@4", "in_temp_input": "21000", "in_humidityrelative_input": "50000"})
		time.Sleep(11 * time.Second) // past the capped backoff
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		states := pub.States("sensors/env/status")
		want := []string{"ok:", `error:iio: device not found: no "dht11" under ` + fs.root, "ok:"}
		if strings.Join(states, "|") != strings.Join(want, "|") {
			t.Errorf("statuses = %q\nwant %q", states, want)
		}
		temps := pub.Topic("sensors/env/temperature")
		for i, m := range temps {
			var r sensors.Payload
			if err := m.Decode(&r); err != nil || (i == 0 && r.Value != 23) || r.Unit != "°C" {
				t.Errorf("temperature %d: %s", i, m.Payload)
			}
		}
		if m, ok := pub.Last("sensors/env/temperature"); !ok || !strings.Contains(string(m.Payload), `"value":21`) {
			t.Errorf("last temperature %s, want 21", m.Payload)
		}
		if st := s.(*iio.Dev).Stats(); st.Transient != 2 || st.Failed != 0 {
			t.Errorf("Stats = %+v, want 2 transient, none failed", st)
		}
	})
}
