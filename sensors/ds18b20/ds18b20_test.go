package ds18b20_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/ds18b20"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	probeA = "28-0316a2794bff"
	probeB = "28-000005e2fdc3"
)

// sysfs is a fake /sys/bus/w1/devices in a temp dir.
type sysfs struct {
	t    *testing.T
	root string
}

func newSysfs(t *testing.T) *sysfs {
	root := filepath.Join(t.TempDir(), "devices")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// The bus master sits beside the slaves, as on a Pi.
	if err := os.Mkdir(filepath.Join(root, "w1_bus_master1"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &sysfs{t: t, root: root}
}

// probe creates (or rewrites) a probe directory with the given files.
func (s *sysfs) probe(id string, files map[string]string) {
	s.t.Helper()
	dir := filepath.Join(s.root, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

func (s *sysfs) remove(id string) {
	s.t.Helper()
	if err := os.RemoveAll(filepath.Join(s.root, id)); err != nil {
		s.t.Fatal(err)
	}
}

func temp(milli string) map[string]string { return map[string]string{"temperature": milli + "\n"} }

func w1(crc, t string) map[string]string {
	return map[string]string{"w1_slave": "72 01 4b 46 7f ff 0e 10 57 : crc=57 " + crc + "\n72 01 4b 46 7f ff 0e 10 57 t=" + t + "\n"}
}

func dev(t *testing.T, root, device string) *ds18b20.Dev {
	t.Helper()
	d, err := ds18b20.New(&ds18b20.Opts{SysfsRoot: root, Device: device})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDev_Sense_oneProbe(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    float64
		wantErr error
	}{
		{"temperature file", temp("21562"), 21.562, nil},
		{"negative", temp("-10125"), -10.125, nil},
		{"w1_slave fallback", w1("YES", "23125"), 23.125, nil},
		{"temperature wins over w1_slave", map[string]string{"temperature": "20000\n", "w1_slave": w1("NO", "1")["w1_slave"]}, 20, nil},
		{"crc NO", w1("NO", "23125"), 0, ds18b20.ErrCRC},
		{"85 in temperature", temp("85000"), 0, ds18b20.ErrPowerOnReset},
		{"85 in w1_slave", w1("YES", "85000"), 0, ds18b20.ErrPowerOnReset},
		{"all-zero scratchpad", map[string]string{"w1_slave": "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n"}, 0, ds18b20.ErrBadData},
		{"out of range", temp("127937"), 0, ds18b20.ErrBadData},
		{"garbage", temp("hello"), 0, ds18b20.ErrBadData},
		{"empty", temp(""), 0, ds18b20.ErrBadData},
		{"truncated w1_slave", map[string]string{"w1_slave": "72 01 : crc=57 YES\n"}, 0, ds18b20.ErrBadData},
		{"no t=", map[string]string{"w1_slave": "72 01 : crc=57 YES\n72 01 x=5\n"}, 0, ds18b20.ErrBadData},
		{"no attributes", map[string]string{}, 0, os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newSysfs(t)
			fs.probe(probeA, tt.files)
			rs, err := dev(t, fs.root, probeA).Sense(t.Context())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || errors.Is(err, ds18b20.ErrNotPresent) || len(rs) != 0 {
					t.Fatalf("Sense = %v, %v; want no reading and %v", rs, err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "ds18b20: "+probeA+": ") {
					t.Errorf("error %q does not name the probe", err)
				}
				return
			}
			if err != nil || len(rs) != 1 {
				t.Fatalf("Sense = %v, %v", rs, err)
			}
			if r := rs[0]; r.Quantity != "temperature" || r.Value != tt.want || r.Unit != "°C" {
				t.Errorf("reading = %+v, want temperature %v °C", r, tt.want)
			}
		})
	}
}

func TestDev_Sense_removedAndBack(t *testing.T) {
	fs := newSysfs(t)
	fs.probe(probeA, temp("21000"))
	d := dev(t, fs.root, probeA)
	if _, err := d.Sense(t.Context()); err != nil {
		t.Fatal(err)
	}
	fs.remove(probeA)
	if _, err := d.Sense(t.Context()); !errors.Is(err, ds18b20.ErrNotPresent) {
		t.Fatalf("after removal: %v, want ErrNotPresent", err)
	}
	fs.probe(probeA, temp("22000"))
	if rs, err := d.Sense(t.Context()); err != nil || rs[0].Value != 22 {
		t.Fatalf("after return: %v, %v", rs, err)
	}
}

func TestDev_Sense_allProbes(t *testing.T) {
	fs := newSysfs(t)
	fs.probe(probeA, temp("21000"))
	fs.probe(probeB, w1("YES", "19500"))
	fs.probe("10-000802bf6d8b", temp("5000")) // a DS18S20: not a 28-*
	d := dev(t, fs.root, "")

	rs, err := d.Sense(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Quantity != probeB || rs[0].Value != 19.5 || rs[1].Quantity != probeA || rs[1].Value != 21 {
		t.Fatalf("readings = %+v, want %s 19.5 and %s 21", rs, probeB, probeA)
	}

	fs.remove(probeB) // the other probe keeps reporting
	rs, err = d.Sense(t.Context())
	if !errors.Is(err, ds18b20.ErrNotPresent) || !strings.Contains(err.Error(), probeB) {
		t.Fatalf("err = %v, want %s not present", err, probeB)
	}
	if len(rs) != 1 || rs[0].Quantity != probeA {
		t.Fatalf("readings = %+v, want %s only", rs, probeA)
	}

	fs.remove(probeA)
	fs.probe(probeA, w1("NO", "0")) // a bad CRC on one probe only
	fs.probe(probeB, temp("18000"))
	rs, err = d.Sense(t.Context())
	if !errors.Is(err, ds18b20.ErrCRC) || errors.Is(err, ds18b20.ErrNotPresent) {
		t.Fatalf("err = %v, want only the CRC error", err)
	}
	if len(rs) != 1 || rs[0].Quantity != probeB || rs[0].Value != 18 {
		t.Fatalf("readings = %+v", rs)
	}
}

func TestDev_Sense_busErrors(t *testing.T) {
	fs := newSysfs(t)
	if _, err := dev(t, fs.root, "").Sense(t.Context()); !errors.Is(err, ds18b20.ErrNoDevices) {
		t.Errorf("empty bus: %v, want ErrNoDevices", err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := dev(t, missing, "").Sense(t.Context()); err == nil || !strings.Contains(err.Error(), "w1-gpio") {
		t.Errorf("missing root: %v, want a hint about w1-gpio", err)
	}
	fs.probe(probeA, temp("21000"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := dev(t, fs.root, "").Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestNew_badDevice(t *testing.T) {
	for _, id := range []string{"28-xyz", "0316a2794bff", "28-0316A2794BFF", "../28-0316a2794bff"} {
		if _, err := ds18b20.New(&ds18b20.Opts{Device: id}); err == nil {
			t.Errorf("New(%q) accepted", id)
		}
	}
}

func TestDriver_Check(t *testing.T) {
	spec := func(opts map[string]sensors.Option) sensors.Spec {
		return sensors.Spec{Name: "tank", Driver: "ds18b20", File: "g.yaml", Line: 20,
			Options: sensors.Options{File: "g.yaml", Values: opts}}
	}
	if err := ds18b20.Driver().Check(spec(map[string]sensors.Option{"device": {Value: probeA, Line: 21}})); err != nil {
		t.Errorf("valid: %v", err)
	}
	err := ds18b20.Driver().Check(spec(map[string]sensors.Option{
		"device":     {Value: "28-nothex", Line: 21},
		"sysfs_root": {Value: "", Line: 22},
		"resolution": {Value: 12, Line: 23},
	}))
	for _, want := range []string{"g.yaml:21: device: bad device id", "g.yaml:22: sysfs_root: must not be empty", "g.yaml:23: resolution: unknown option"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check = %v, want %q", err, want)
		}
	}
}

// TestPoller_removedProbe drives the driver through the real poller: the
// removal is reported once (log and status), the return recovers.
func TestPoller_removedProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := newSysfs(t)
		fs.probe(probeA, temp("21000"))
		spec := sensors.Spec{Name: "tank", Driver: "ds18b20", Interval: time.Second, Topic: "sensors/tank",
			Options: sensors.Options{Values: map[string]sensors.Option{
				"sysfs_root": {Value: fs.root}, "device": {Value: probeA},
			}}}
		s, err := ds18b20.Driver().Open(spec, &sensorstest.Hardware{})
		if err != nil {
			t.Fatal(err)
		}
		pub := &sensorstest.Publisher{}
		var logs sensorstest.Logs
		p := sensors.NewPoller(spec, s, pub, sensors.PollerOptions{Logger: logs.Logger()})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		synctest.Wait()
		fs.remove(probeA)
		time.Sleep(10 * time.Second) // several failing polls
		synctest.Wait()
		fs.probe(probeA, temp("22500"))
		time.Sleep(11 * time.Second) // past the capped backoff
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		states := pub.States("sensors/tank/status")
		want := []string{"ok:", "error:ds18b20: " + probeA + ": device not present", "ok:"}
		if strings.Join(states, "|") != strings.Join(want, "|") {
			t.Errorf("statuses = %q, want %q", states, want)
		}
		if n := logs.Count(slog.LevelWarn, "sensor read failed"); n != 1 {
			t.Errorf("removal logged %d times at Warn, want 1", n)
		}
		m, _ := pub.Last("sensors/tank/temperature")
		var last sensors.Payload
		if err := m.Decode(&last); err != nil || last.Value != 22.5 {
			t.Errorf("last temperature %s, want 22.5", m.Payload)
		}
	})
}
