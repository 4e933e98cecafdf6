package sgp30

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// The datasheet's equation 1 (section 3.15) worked by hand: at 25 °C the
// saturation pressure is 6.112 × e^(17.62×25/268.12) = 31.60 hPa, half of
// it at 50 %, × 216.7 / 298.15 K = 11.48 g/m³; in 8.8 fixed point 11 =
// 0x0B and 0.48 × 256 = 124 = 0x7C.
func TestHumidityWord(t *testing.T) {
	if ah := AbsoluteHumidity(25, 50); math.Abs(ah-11.484) > 0.001 {
		t.Errorf("AbsoluteHumidity(25 °C, 50 %%) = %v, want 11.484 g/m³", ah)
	}
	for _, tt := range []struct {
		ah   float64
		want uint16
	}{
		{AbsoluteHumidity(25, 50), 0x0B7C}, {1.5, 0x0180}, {0, 0}, {-1, 0}, {math.NaN(), 0},
		{0.001, 0x0001}, // positive never turns compensation off
		{300, 0xFFFF},
	} {
		if got := HumidityWord(tt.ah); got != tt.want {
			t.Errorf("HumidityWord(%v) = %#04x, want %#04x", tt.ah, got, tt.want)
		}
	}
}

// Transactions of New and a Watch start (datasheet table 10).
var (
	serialOps = []i2ctest.IO{
		{Addr: Addr, W: []byte{0x36, 0x82}},                    // get_serial_id
		{Addr: Addr, R: i2cdev.Encode(0x0000, 0x0123, 0x4567)}, // serial number 0x000001234567
	}
	initOp    = i2ctest.IO{Addr: Addr, W: []byte{0x20, 0x03}} // iaq_init
	measureOp = []i2ctest.IO{
		{Addr: Addr, W: []byte{0x20, 0x08}},                         // measure_iaq
		{Addr: Addr, R: []byte{0x01, 0xA4, 0x4D, 0x00, 0x0D, 0xCD}}, // 420 ppm, 13 ppb
	}
)

// playbackWatch runs Watch over ops (after New's) until they run out,
// which ends Watch with the playback's error, and checks they were all
// used.
func playbackWatch(t *testing.T, opts Opts, ops ...i2ctest.IO) *Dev {
	t.Helper()
	bus := &i2ctest.Playback{Ops: append(slices.Clone(serialOps), ops...), DontPanic: true}
	d, err := New(bus, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Watch(ctx, nil); err == nil {
		t.Fatal("Watch returned nil before the playback ran out")
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	return d
}

// Fixed temperature and humidity (25 °C, 50 %): set_absolute_humidity
// 0x0B7C (CRC 0x1E) right after iaq_init, and not again while it holds.
func TestDev_Watch_fixedHumidity(t *testing.T) {
	ops := []i2ctest.IO{initOp, {Addr: Addr, W: []byte{0x20, 0x61, 0x0B, 0x7C, 0x1E}}} // set_absolute_humidity 11.48 g/m³
	ops = append(ops, measureOp...)
	ops = append(ops, measureOp...)
	playbackWatch(t, Opts{AbsoluteHumidity: AbsoluteHumidity(25, 50)}, ops...)
}

// A companion's readings (°C or °F, %) give the humidity; a change is sent
// at the next measurement, an unchanged one is not, and once they are 10
// minutes old compensation is turned off (0x0000).
func TestDev_Follow(t *testing.T) {
	c := &chip{answer: measureOp[1].R}
	clk := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	d, err := New(c, Opts{Now: clk.now, Companion: "sensors/kitchen"})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Follows(); !slices.Equal(got, []string{"sensors/kitchen/temperature", "sensors/kitchen/humidity"}) {
		t.Fatalf("Follows = %v", got)
	}
	d.Follow("sensors/kitchen/temperature", sensors.Reading{Quantity: "temperature", Value: 77, Unit: "°F"}) // 25 °C
	d.Follow("sensors/kitchen/humidity", sensors.Reading{Quantity: "humidity", Value: 50, Unit: "%"})
	d.Follow("sensors/kitchen/humidity", sensors.Reading{Quantity: "humidity", Value: 99, Unit: "g/m³"}) // ignored
	watch(t, d)
	writes := func() [][]byte { c.mu.Lock(); defer c.mu.Unlock(); return slices.Clone(c.writes) }
	sensorstest.WaitFor(t, 10*time.Second, "set_absolute_humidity", func() bool { return len(writes()) == 1 })
	d.Follow("sensors/kitchen/temperature", sensors.Reading{Quantity: "temperature", Value: 25, Unit: "°C"}) // the same
	_, m := c.count()
	sensorstest.WaitFor(t, 10*time.Second, "measurements", func() bool { _, n := c.count(); return n >= m+3 })
	d.Follow("sensors/kitchen/humidity", sensors.Reading{Quantity: "humidity", Value: 60, Unit: "%"}) // 20 °C, 60 % would be 0x0A58; 25 °C, 60 % is 13.78 g/m³
	sensorstest.WaitFor(t, 10*time.Second, "the new humidity", func() bool { return len(writes()) == 2 })
	clk.add(11 * time.Minute)
	sensorstest.WaitFor(t, 10*time.Second, "compensation off", func() bool { return len(writes()) == 3 })
	w := writes()
	if !slices.Equal(w[0], []byte{0x20, 0x61, 0x0B, 0x7C, 0x1E}) || w[1][2] != 0x0D || !slices.Equal(w[2], []byte{0x20, 0x61, 0x00, 0x00, 0x81}) {
		t.Fatalf("writes % x, want 11.48 g/m³, 13.78 g/m³, then 0", w)
	}
}

// writeBaseline stores a baseline saved at saved in dir, as the driver does.
func writeBaseline(t *testing.T, dir string, saved time.Time) {
	t.Helper()
	b, _ := json.Marshal(Baseline{ECO2: 0x8973, TVOC: 0x8AAE, Saved: saved})
	if err := os.WriteFile(BaselinePath(dir, 0x000001234567), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A stored baseline younger than 7 days is restored right after iaq_init
// with set_iaq_baseline, TVOC first (0x8AAE, CRC 0xAF) then eCO₂ (0x8973,
// CRC 0xCA): the reverse of get_iaq_baseline's order. One older than 7
// days, from the future, or unreadable is not.
func TestDev_Watch_restoreBaseline(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	restore := i2ctest.IO{Addr: Addr, W: []byte{0x20, 0x1E, 0x8A, 0xAE, 0xAF, 0x89, 0x73, 0xCA}}
	tests := []struct {
		name  string
		saved time.Time
		ops   []i2ctest.IO
	}{
		{"6 days", now.Add(-6 * 24 * time.Hour), append([]i2ctest.IO{initOp, restore}, measureOp...)},
		{"8 days", now.Add(-8 * 24 * time.Hour), append([]i2ctest.IO{initOp}, measureOp...)},
		{"future", now.Add(time.Hour), append([]i2ctest.IO{initOp}, measureOp...)},
		{"corrupt", time.Time{}, append([]i2ctest.IO{initOp}, measureOp...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.saved.IsZero() {
				os.WriteFile(BaselinePath(dir, 0x000001234567), []byte("{"), 0o644)
			} else {
				writeBaseline(t, dir, tt.saved)
			}
			playbackWatch(t, Opts{Now: func() time.Time { return now }, BaselineDir: dir}, tt.ops...)
		})
	}
}

// Without a stored baseline the first is saved after 12 hours, then every
// baseline interval, atomically in the data dir; the next Watch (a chip
// restarted) restores it.
func TestDev_Watch_saveBaseline(t *testing.T) {
	dir := t.TempDir()
	c := &chip{answer: measureOp[1].R, baseline: []byte{0x89, 0x73, 0xCA, 0x8A, 0xAE, 0xAF}} // eCO₂ 0x8973, TVOC 0x8AAE
	clk := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	d, err := New(c, Opts{Now: clk.now, BaselineDir: dir, BaselineEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	saves := func() int { d.mu.Lock(); defer d.mu.Unlock(); return d.saves }
	measureMore := func() {
		_, m := c.count()
		sensorstest.WaitFor(t, 10*time.Second, "measurements", func() bool { _, n := c.count(); return n >= m+3 })
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Watch(ctx, nil) }()
	sensorstest.WaitFor(t, 10*time.Second, "a measurement", func() bool { _, n := c.count(); return n >= 1 })
	clk.add(11 * time.Hour)
	measureMore()
	if n := saves(); n != 0 {
		t.Fatalf("%d baselines saved after 11 h, want none before 12 h", n)
	}
	clk.add(time.Hour)
	sensorstest.WaitFor(t, 10*time.Second, "the first baseline", func() bool { return saves() == 1 })
	b, err := os.ReadFile(BaselinePath(dir, d.serial))
	var bl Baseline
	if err != nil || json.Unmarshal(b, &bl) != nil || bl.ECO2 != 0x8973 || bl.TVOC != 0x8AAE || !bl.Saved.Equal(clk.now()) {
		t.Fatalf("baseline file %s, %v", b, err)
	}
	clk.add(30 * time.Minute)
	measureMore()
	if n := saves(); n != 1 {
		t.Fatalf("%d baselines saved 30 min later, want still 1", n)
	}
	clk.add(30 * time.Minute)
	sensorstest.WaitFor(t, 10*time.Second, "the hourly baseline", func() bool { return saves() == 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("data dir holds %v, want the baseline file only", entries)
	}

	c.mu.Lock()
	c.writes = nil
	c.mu.Unlock()
	watch(t, d)
	sensorstest.WaitFor(t, 10*time.Second, "set_iaq_baseline", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.writes) == 1 && slices.Equal(c.writes[0], []byte{0x20, 0x1E, 0x8A, 0xAE, 0xAF, 0x89, 0x73, 0xCA})
	})
}

// A baseline that cannot be written (the data dir is gone) does not stop
// the measurements: Sense returns them with the error until a write works.
func TestDev_Sense_saveError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	c := &chip{answer: measureOp[1].R, baseline: []byte{0x89, 0x73, 0xCA, 0x8A, 0xAE, 0xAF}}
	clk := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	d, err := New(c, Opts{Now: clk.now, BaselineDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	watch(t, d)
	sensorstest.WaitFor(t, 10*time.Second, "a measurement", func() bool { _, n := c.count(); return n >= 1 })
	clk.add(13 * time.Hour)
	sensorstest.WaitFor(t, 10*time.Second, "the failed write", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.saveErr != nil
	})
	rs, err := d.Sense(context.Background())
	if !errors.Is(err, ErrBaselineSave) || len(rs) != 2 || rs[0].Value != 420 {
		t.Fatalf("Sense = %v, %v; want the readings and the save error", rs, err)
	}
}

func TestDriver(t *testing.T) {
	peers := map[string]string{"s": "sensors/s", "kitchen": "home/kitchen", "hall": "sensors/hall"}
	spec := func(opts map[string]sensors.Option) sensors.Spec {
		s := sensorstest.Spec("sgp30", opts)
		s.Peers, s.DataDir = peers, "/var/lib/gateway"
		return s
	}
	tests := []struct {
		opts map[string]sensors.Option
		want []string
	}{
		{map[string]sensors.Option{"companion": {Value: "kitchen", Line: 11}, "baseline_interval": {Value: "30m", Line: 12}}, nil},
		{map[string]sensors.Option{"temperature": {Value: 22, Line: 11}, "humidity": {Value: 45.5, Line: 12}, "baseline": {Value: false, Line: 13}}, nil},
		{map[string]sensors.Option{"companion": {Value: "kitchn", Line: 11}}, []string{`gw.yaml:11: companion: no sensor named "kitchn" (sensors: [hall kitchen])`}},
		{map[string]sensors.Option{"companion": {Value: "s", Line: 11}}, []string{`gw.yaml:11: companion: "s" is this sensor`}},
		{map[string]sensors.Option{"humidity": {Value: 40, Line: 11}}, []string{"gw.yaml:11: humidity: set temperature too: compensation needs both"}},
		{map[string]sensors.Option{"temperature": {Value: 20, Line: 11}}, []string{"gw.yaml:11: temperature: set humidity too: compensation needs both"}},
		{map[string]sensors.Option{"temperature": {Value: 90, Line: 11}, "humidity": {Value: 101, Line: 12}},
			[]string{"gw.yaml:11: temperature: 90 °C is out of range: want -40 to 85", "gw.yaml:12: humidity: 101 % is out of range: want 0 to 100"}},
		{map[string]sensors.Option{"temperature": {Value: 20, Line: 11}, "humidity": {Value: 50, Line: 12}, "companion": {Value: "hall", Line: 13}},
			[]string{"gw.yaml:11: temperature: set companion or temperature and humidity, not both"}},
		{map[string]sensors.Option{"baseline_interval": {Value: "10s", Line: 11}, "baseline": {Value: "yes", Line: 12}},
			[]string{"gw.yaml:11: baseline_interval: 10s is too short: at least 1m", "gw.yaml:12: baseline: want true or false, got yes"}},
		{map[string]sensors.Option{"compainon": {Value: "hall", Line: 11}}, []string{`gw.yaml:11: compainon: unknown option for driver sgp30 (did you mean "companion"?)`}},
	}
	for _, tt := range tests {
		sensorstest.CheckErrors(t, Driver(), spec(tt.opts), tt.want...)
	}
	s, err := Driver().Open(spec(map[string]sensors.Option{"companion": {Value: "kitchen", Line: 11}}), &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": &chip{}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(sensors.Watcher); !ok {
		t.Fatal("the sgp30 sensor is not a Watcher")
	}
	d := s.(*Dev)
	if !slices.Equal(d.Follows(), []string{"home/kitchen/temperature", "home/kitchen/humidity"}) || d.baselineFile != "/var/lib/gateway/sgp30-000001234567.baseline.json" {
		t.Fatalf("Follows = %v, baseline file %q", d.Follows(), d.baselineFile)
	}
	s, _ = Driver().Open(spec(map[string]sensors.Option{"baseline": {Value: false, Line: 11}}), &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": &chip{}}})
	if d := s.(*Dev); d.baselineFile != "" || d.Follows() != nil {
		t.Fatalf("baseline: false keeps %q; follows %v", d.baselineFile, d.Follows())
	}
}
