package iio_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/iio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// want is an expected reading: quantity → value and unit.
type want map[string]struct {
	v    float64
	unit string
}

func dev(t *testing.T, root string, o iio.Opts) *iio.Dev {
	t.Helper()
	o.SysfsRoot = root
	if o.RetryDelay == 0 {
		o.RetryDelay = time.Millisecond
	}
	d, err := iio.New(&o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// check compares readings with w: the same quantities, values within 1e-6
// relative, the same units.
func check(t *testing.T, rs []sensors.Reading, w want) {
	t.Helper()
	got := map[string]bool{}
	for _, r := range rs {
		got[r.Quantity] = true
		e, ok := w[r.Quantity]
		switch {
		case !ok:
			t.Errorf("unexpected reading %+v", r)
		case math.Abs(r.Value-e.v) > 1e-6*math.Max(1, math.Abs(e.v)) || r.Unit != e.unit:
			t.Errorf("%s = %v %q, want %v %q", r.Quantity, r.Value, r.Unit, e.v, e.unit)
		}
	}
	for q := range w {
		if !got[q] {
			t.Errorf("no reading of %s in %+v", q, rs)
		}
	}
}

func TestDev_Sense_kernelDrivers(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		opts  iio.Opts
		want  want
	}{
		{"dht11", dht11, iio.Opts{Device: "dht11"}, want{
			"temperature": {23, "°C"}, "humidity": {45, "%"}}},
		{"dht22 below zero, full name", dht22, iio.Opts{Device: "dht11@17"}, want{
			"temperature": {-7.3, "°C"}, "humidity": {87.6, "%"}}},
		{"bme680 (humidity in %, _input preferred to _raw)", bme680, iio.Opts{Device: "bme680"}, want{
			"temperature": {23.45, "°C"}, "pressure": {1013.25, "hPa"}, "humidity": {43.215, "%"}, "resistance": {82986, "Ω"}}},
		{"ads1015 every channel", ads1015, iio.Opts{Device: "ads1015"}, want{
			"voltage0": {1.65, "V"}, "voltage1": {2.4, "V"}, "voltage2": {0, "V"}, "voltage3": {2.047, "V"},
			"voltage0-voltage1": {-0.012, "V"}, "voltage0-voltage3": {0.003, "V"},
			"voltage1-voltage3": {0.005, "V"}, "voltage2-voltage3": {0.007, "V"}}},
		{"ads1015 channels filter", ads1015, iio.Opts{Device: "ads1015", Channels: []string{"voltage1", "voltage0"}}, want{
			"voltage0": {1.65, "V"}, "voltage1": {2.4, "V"}}},
		{"bh1750", bh1750, iio.Opts{Device: "bh1750"}, want{
			"illuminance": {600 * 0.833333, "lx"}}},
		{"si7020 (raw + offset) × scale", si7020, iio.Opts{Device: "si7020"}, want{
			"temperature": {(6699 - 4368) * 10.725097656 / 1000, "°C"}, "humidity": {(6685 - 786) * 7.629394531 / 1000, "%"}}},
		{"ina226 renamed", ina226, iio.Opts{Device: "ina226", Rename: map[string]string{"voltage0": "shunt_voltage", "voltage1": "bus_voltage"}}, want{
			"shunt_voltage": {0.005, "V"}, "bus_voltage": {12, "V"}, "power2": {6, "W"}, "current3": {0.5, "A"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newSysfs(t)
			fs.add(map[string]string{"name": "some_other_adc", "in_voltage0_raw": "1"})
			fs.add(tt.files)
			rs, err := dev(t, fs.root, tt.opts).Sense(t.Context())
			if err != nil {
				t.Fatalf("Sense: %v", err)
			}
			check(t, rs, tt.want)
		})
	}
}

func TestDev_Sense_otherTypes(t *testing.T) {
	fs := newSysfs(t)
	fs.add(map[string]string{
		"name":                             "scd30",
		"in_concentration_co2_raw":         "845",
		"in_concentration_co2_scale":       "0.000100", // percent per count: 845 ppm
		"in_temp_ambient_input":            "21500",
		"in_massconcentration_pm2p5_input": "12.5",
		"in_uvindex_input":                 "3",
		"in_ph_raw":                        "7", // a type we have no unit for
		"in_temp_peak_raw":                 "30000",
		"in_temp_ambient_mean_raw":         "1",
	})
	fs.add(map[string]string{"name": "sgp40", "in_concentration_input": "102", "in_resistance_raw": "29000"})
	rs, err := dev(t, fs.root, iio.Opts{Device: "scd30"}).Sense(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	check(t, rs, want{"co2": {845, "ppm"}, "temperature_ambient": {21.5, "°C"}, "pm25": {12.5, "µg/m³"},
		"uv_index": {3, ""}, "ph": {7, ""}})
	rs, err = dev(t, fs.root, iio.Opts{Device: "sgp40"}).Sense(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	check(t, rs, want{"voc_index": {102, ""}, "resistance": {29000, "Ω"}})
}

func TestDev_Sense_select(t *testing.T) {
	fs := newSysfs(t)
	a := fs.add(bme680)
	b := fs.add(map[string]string{"name": "bme680", "label": "attic", "in_temp_input": "5000"})
	if _, err := dev(t, fs.root, iio.Opts{Device: "bme680"}).Sense(t.Context()); !errors.Is(err, iio.ErrAmbiguous) ||
		!strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
		t.Errorf("two bme680: %v, want ErrAmbiguous naming both", err)
	}
	for _, sel := range []string{b, "attic"} {
		rs, err := dev(t, fs.root, iio.Opts{Device: sel}).Sense(t.Context())
		if err != nil || len(rs) != 1 || rs[0].Value != 5 {
			t.Errorf("device %q: %+v, %v; want the attic's 5 °C", sel, rs, err)
		}
	}
	if _, err := dev(t, fs.root, iio.Opts{Device: "bme68"}).Sense(t.Context()); !errors.Is(err, iio.ErrNoDevice) {
		t.Errorf("no such name: %v, want ErrNoDevice", err)
	}
	if _, err := dev(t, fs.root, iio.Opts{Device: "trigger0"}).Sense(t.Context()); !errors.Is(err, iio.ErrNoDevice) {
		t.Errorf("a trigger: %v, want ErrNoDevice", err)
	}
	_, err := dev(t, t.TempDir()+"/nope", iio.Opts{Device: "bme680"}).Sense(t.Context())
	if !errors.Is(err, iio.ErrNoDevice) || !strings.Contains(err.Error(), "dtoverlay") {
		t.Errorf("missing root: %v, want ErrNoDevice with a dtoverlay hint", err)
	}
}

func TestDev_Sense_removedAndBack(t *testing.T) {
	fs := newSysfs(t)
	dir := fs.add(dht11)
	d := dev(t, fs.root, iio.Opts{Device: "dht11"})
	if _, err := d.Sense(t.Context()); err != nil {
		t.Fatal(err)
	}
	fs.remove(dir)
	if rs, err := d.Sense(t.Context()); !errors.Is(err, iio.ErrNoDevice) || len(rs) != 0 {
		t.Fatalf("after removal: %v, %v; want ErrNoDevice", rs, err)
	}
	fs.add(map[string]string{"name": "dht11@4", "in_temp_input": "24000", "in_humidityrelative_input": "40000"})
	rs, err := d.Sense(t.Context()) // back as iio:device1
	if err != nil {
		t.Fatal(err)
	}
	check(t, rs, want{"temperature": {24, "°C"}, "humidity": {40, "%"}})
}

func TestDev_Sense_badChannels(t *testing.T) {
	fs := newSysfs(t)
	dir := fs.add(ina226)
	d := dev(t, fs.root, iio.Opts{Device: "ina226", Channels: []string{"current3", "voltage7"}})
	rs, err := d.Sense(t.Context())
	if !errors.Is(err, iio.ErrNoChannel) || !strings.Contains(err.Error(), "voltage7") || !strings.Contains(err.Error(), "power2") {
		t.Errorf("missing channel: %v, want ErrNoChannel naming voltage7 and listing the others", err)
	}
	check(t, rs, want{"current3": {0.5, "A"}}) // the present one is still read

	fs.set(dir, map[string]string{"in_power2_scale": "twenty-five"})
	rs, err = dev(t, fs.root, iio.Opts{Device: "ina226", Channels: []string{"power2"}}).Sense(t.Context())
	if !errors.Is(err, iio.ErrBadData) || len(rs) != 0 || !strings.Contains(err.Error(), "in_power2_scale") {
		t.Errorf("bad scale: %v, %v; want ErrBadData naming the file, no reading", rs, err)
	}

	d = dev(t, fs.root, iio.Opts{Device: "ina226", Channels: []string{"voltage0", "voltage1"},
		Rename: map[string]string{"voltage0": "voltage1"}})
	if rs, err := d.Sense(t.Context()); !errors.Is(err, iio.ErrDuplicate) || len(rs) != 1 {
		t.Errorf("rename onto another channel: %v, %v; want one reading and ErrDuplicate", rs, err)
	}
}

// TestDev_Sense_opensOnlyPresentFiles: a Sense opens each file it needs
// once and never probes for offset or scale files the device lacks (an
// ADS1015 has a scale per channel and no offset; an INA226 neither offset
// nor shared scale).
func TestDev_Sense_opensOnlyPresentFiles(t *testing.T) {
	for _, files := range []map[string]string{ads1015, ina226} {
		fs := newSysfs(t)
		fs.add(files)
		d := dev(t, fs.root, iio.Opts{Device: files["name"]})
		opened := map[string]int{}
		iio.InjectFaults(d, func(name string) error { opened[name]++; return nil })
		if _, err := d.Sense(t.Context()); err != nil {
			t.Fatal(err)
		}
		for name, n := range opened {
			if _, err := os.Stat(filepath.Join(fs.root, name)); err != nil {
				t.Errorf("%s: opened %s, which the device does not have", files["name"], name)
			}
			if n > 1 {
				t.Errorf("%s: opened %s %d times in one Sense", files["name"], name, n)
			}
		}
	}
}

// eio fails reads of file with errno the first n times (n < 0: always)
// and counts every attempt.
type eio struct {
	file     string
	errno    syscall.Errno
	n, tries int
}

func (e *eio) fail(name string) error {
	if !strings.HasSuffix(name, "/"+e.file) {
		return nil
	}
	e.tries++
	if e.n < 0 || e.tries <= e.n {
		return e.errno
	}
	return nil
}

func TestDev_Sense_transientErrors(t *testing.T) {
	tests := []struct {
		name      string
		fault     eio
		retries   int
		wantErr   error
		wantTries int
		transient uint64
	}{
		{"dht EIO twice, then a value", eio{file: "in_temp_input", errno: syscall.EIO, n: 2}, 3, nil, 3, 2},
		{"dht ETIMEDOUT once", eio{file: "in_humidityrelative_input", errno: syscall.ETIMEDOUT, n: 1}, 3, nil, 2, 1},
		{"EIO every time: retries used up", eio{file: "in_temp_input", errno: syscall.EIO, n: -1}, 3, syscall.EIO, 4, 4},
		{"no retries", eio{file: "in_temp_input", errno: syscall.EAGAIN, n: 1}, -1, syscall.EAGAIN, 1, 1},
		{"EBUSY on a scale file", eio{file: "in_temp_scale", errno: syscall.EBUSY, n: 1}, 3, nil, 2, 1},
		{"EACCES is not retried", eio{file: "in_temp_input", errno: syscall.EACCES, n: -1}, 3, syscall.EACCES, 1, 0},
		{"ENODEV (unbound mid-read) is not retried", eio{file: "in_temp_input", errno: syscall.ENODEV, n: -1}, 3, syscall.ENODEV, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newSysfs(t)
			files := dht11
			if tt.fault.file == "in_temp_scale" {
				files = map[string]string{"name": "dht11@4", "in_temp_raw": "23", "in_temp_scale": "1000", "in_humidityrelative_input": "45000"}
			}
			fs.add(files)
			d := dev(t, fs.root, iio.Opts{Device: "dht11", Retries: tt.retries})
			fault := tt.fault
			iio.InjectFaults(d, fault.fail)
			rs, err := d.Sense(t.Context())
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Sense: %v", err)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Sense: %v, want %v", err, tt.wantErr)
			}
			for _, r := range rs {
				if r.Quantity == "temperature" && r.Value != 23 || r.Quantity == "humidity" && r.Value != 45 {
					t.Errorf("reading %+v, want 23 °C / 45 %%", r)
				}
			}
			if wantN := 2 - btoi(tt.wantErr != nil); len(rs) != wantN {
				t.Errorf("%d readings %+v, want %d", len(rs), rs, wantN)
			}
			if fault.tries != tt.wantTries {
				t.Errorf("%s read %d times, want %d", fault.file, fault.tries, tt.wantTries)
			}
			st := d.Stats()
			if st.Transient != tt.transient || st.Failed != uint64(btoi(tt.wantErr != nil)) || st.Senses != 1 {
				t.Errorf("Stats = %+v, want %d transient, failed %v", st, tt.transient, tt.wantErr != nil)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestDev_Sense_retryHonoursContext: a Sense waiting between retries
// returns when its context ends, without a reading.
func TestDev_Sense_retryHonoursContext(t *testing.T) {
	fs := newSysfs(t)
	fs.add(dht11)
	d := dev(t, fs.root, iio.Opts{Device: "dht11", Retries: 10, RetryDelay: time.Hour})
	iio.InjectFaults(d, (&eio{file: "in_humidityrelative_input", errno: syscall.EIO, n: -1}).fail)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	rs, err := d.Sense(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || len(rs) != 0 {
		t.Errorf("Sense = %v, %v; want the deadline, no reading", rs, err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("Sense took %v", el)
	}
	if st := d.Stats(); st.Failed != 0 {
		t.Errorf("a cancelled read counted as failed: %+v", st)
	}
}

func TestNew_badOpts(t *testing.T) {
	for _, o := range []iio.Opts{
		{},
		{Device: "../etc"},
		{Device: "iio:device0/.."},
		{Device: "bme680", Channels: []string{"in_temp_input"}},
		{Device: "bme680", Rename: map[string]string{"Temp": "t"}},
	} {
		if _, err := iio.New(&o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}
