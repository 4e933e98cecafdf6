package scd4x

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// withSettings is what New sends with settings: stop, get_serial_number,
// the settings (between), start_periodic_measurement.
func withSettings(between ...i2ctest.IO) []i2ctest.IO {
	ops := newOps([]byte{0x21, 0xB1})
	return append(append(ops[:3:3], between...), ops[3])
}

func ptr[T any](v T) *T { return &v }

// The datasheet's examples (section 3.7): set_automatic_self_calibration_
// enabled 0 (CRC 0x81), set_temperature_offset 5.4 °C = 0x07E6 (CRC 0x48),
// set_sensor_altitude 1950 m = 0x079E (CRC 0x09), set_ambient_pressure
// 98 700 Pa = 987 hPa = 0x03DB (CRC 0x42), each command then its word and
// the word's CRC; nothing persisted.
func TestNew_settings(t *testing.T) {
	tests := []struct {
		name string
		s    Settings
		ops  []i2ctest.IO
	}{
		{"asc offset altitude", Settings{ASC: ptr(false), TemperatureOffset: ptr(5.4), Altitude: ptr(1950)}, withSettings(
			i2ctest.IO{Addr: Addr, W: []byte{0x24, 0x16, 0x00, 0x00, 0x81}}, // set_automatic_self_calibration_enabled 0
			i2ctest.IO{Addr: Addr, W: []byte{0x24, 0x1D, 0x07, 0xE6, 0x48}}, // set_temperature_offset 5.4 °C
			i2ctest.IO{Addr: Addr, W: []byte{0x24, 0x27, 0x07, 0x9E, 0x09}}, // set_sensor_altitude 1950 m
		)},
		{"asc on", Settings{ASC: ptr(true)}, withSettings(
			i2ctest.IO{Addr: Addr, W: []byte{0x24, 0x16, 0x00, 0x01, 0xB0}}, // set_automatic_self_calibration_enabled 1
		)},
		{"ambient pressure", Settings{AmbientPressure: 987}, withSettings(
			i2ctest.IO{Addr: Addr, W: []byte{0xE0, 0x00, 0x03, 0xDB, 0x42}}, // set_ambient_pressure 987 hPa
		)},
		{"none", Settings{}, withSettings()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: tt.ops, DontPanic: true}
			d, err := New(bus, Opts{Settings: tt.s})
			if err != nil {
				t.Fatal(err)
			}
			if err := bus.Close(); err != nil {
				t.Fatal(err)
			}
			if d.persists != 0 {
				t.Fatalf("persisted %d times without persist", d.persists)
			}
		})
	}
}

// With Persist, New reloads the stored settings (reinit), reads each and
// writes the EEPROM (persist_settings) only when one differs: a chip that
// stores 6.2 °C (the datasheet's get_temperature_offset example, 0x0912)
// gets 5.4 °C and one persist_settings; a chip that stores 5.4 °C already
// gets neither, so a restart does not wear the EEPROM.
func TestNew_persistSettings(t *testing.T) {
	s := Settings{TemperatureOffset: ptr(5.4), Persist: true}
	reinit := i2ctest.IO{Addr: Addr, W: []byte{0x36, 0x46}}
	getOffset := i2ctest.IO{Addr: Addr, W: []byte{0x23, 0x18}}
	tests := []struct {
		name     string
		ops      []i2ctest.IO
		persists int
	}{
		{"differs", withSettings(reinit, getOffset,
			i2ctest.IO{Addr: Addr, R: []byte{0x09, 0x12, 0x63}},             // 6.2 °C stored
			i2ctest.IO{Addr: Addr, W: []byte{0x24, 0x1D, 0x07, 0xE6, 0x48}}, // set_temperature_offset 5.4 °C
			i2ctest.IO{Addr: Addr, W: []byte{0x36, 0x15}}), 1},              // persist_settings
		{"stored already", withSettings(reinit, getOffset,
			i2ctest.IO{Addr: Addr, R: []byte{0x07, 0xE6, 0x48}}), 0}, // 5.4 °C stored
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: tt.ops, DontPanic: true}
			d, err := New(bus, Opts{Settings: s})
			if err != nil {
				t.Fatal(err)
			}
			if err := bus.Close(); err != nil {
				t.Fatal(err)
			}
			if d.persists != tt.persists {
				t.Fatalf("persist_settings sent %d times, want %d", d.persists, tt.persists)
			}
		})
	}
}

func TestNew_badSettings(t *testing.T) {
	for _, s := range []Settings{{TemperatureOffset: ptr(-1.0)}, {Altitude: ptr(3001)}, {AmbientPressure: 600}} {
		if _, err := New(&i2ctest.Playback{DontPanic: true}, Opts{Settings: s}); err == nil || !strings.Contains(err.Error(), "out of") {
			t.Errorf("New(%+v) = %v, want a range error before touching the bus", s, err)
		}
	}
}

// Forced recalibration, the datasheet's example (section 3.7.6): target 480
// ppm = 0x01E0 (CRC 0xB4); after 400 ms the chip answers 0x7FCE (CRC 0x7B),
// a correction of 0x7FCE − 0x8000 = −50 ppm. Periodic measurement is
// stopped before and started again after.
func TestDev_Calibrate(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	calibration := func(answer []byte) []i2ctest.IO {
		return []i2ctest.IO{
			{Addr: Addr, W: []byte{0x3F, 0x86}},                   // stop_periodic_measurement
			{Addr: Addr, W: []byte{0x36, 0x2F, 0x01, 0xE0, 0xB4}}, // perform_forced_recalibration 480 ppm
			{Addr: Addr, R: answer},
			{Addr: Addr, W: []byte{0x21, 0xB1}}, // start_periodic_measurement
		}
	}
	ops := newOps([]byte{0x21, 0xB1})
	ops = append(ops, calibration([]byte{0x7F, 0xCE, 0x7B})...)
	ops = append(ops, calibration([]byte{0xFF, 0xFF, 0xAC})...) // 0xFFFF: failed
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	d, err := New(bus, Opts{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now = now.Add(2 * time.Minute)
	if _, err := d.Calibrate(ctx, 480); err == nil || !strings.Contains(err.Error(), "needs 3m0s of measurement") {
		t.Fatalf("Calibrate after 2 minutes = %v, want a refusal", err)
	}
	for _, ppm := range []float64{299, 5001} {
		if _, err := d.Calibrate(ctx, ppm); err == nil || !strings.Contains(err.Error(), "out of [300, 5000]") {
			t.Fatalf("Calibrate(%v) = %v, want a range error", ppm, err)
		}
	}
	now = now.Add(time.Minute)
	c, err := d.Calibrate(ctx, 480)
	if err != nil || c != -50 {
		t.Fatalf("Calibrate(480) = %v, %v; want -50 ppm", c, err)
	}
	now = now.Add(3 * time.Minute)
	if _, err := d.Calibrate(ctx, 480); !errors.Is(err, ErrRecalibration) {
		t.Fatalf("Calibrate answered 0xFFFF = %v, want ErrRecalibration", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// "calibrate" is a command only with CalibrateCommand; its payload is the
// reference and its outcome the correction.
func TestDev_Command(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	c := &chip{}
	d, err := New(c, Opts{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if cmds := d.Commands(); cmds != nil {
		t.Fatalf("Commands without calibrate_command = %v", cmds)
	}
	d.calibrateCmd = true
	if cmds := d.Commands(); !slices.Equal(cmds, []string{"calibrate"}) {
		t.Fatalf("Commands = %v", cmds)
	}
	now = now.Add(5 * time.Minute)
	r, err := d.Command(context.Background(), "calibrate", []byte(`{"value": 420}`))
	if err != nil || r.Quantity != "co2_correction" || r.Unit != "ppm" || r.Value != 3 {
		t.Fatalf("Command = %+v, %v; want co2_correction 3 ppm", r, err)
	}
	if _, err := d.Command(context.Background(), "calibrate", []byte("fresh")); !errors.Is(err, sensors.ErrBadCommand) {
		t.Fatalf("Command with a bad payload = %v", err)
	}
	if want := []uint16{cmdStop, cmdForcedRecalib, cmdStart}; !slices.Equal(c.commands()[len(c.commands())-3:], want) {
		t.Fatalf("commands %x, want stop, recalibrate, start at the end", c.commands())
	}
}

// A chip that was power-cycled forgot the settings not persisted: the
// restart after ErrStale sends them again, while the chip is idle.
func TestDev_Sense_restartSendsSettings(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	c := &chip{}
	d, err := New(c, Opts{Now: func() time.Time { return now }, Settings: Settings{ASC: ptr(false)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	now = now.Add(11 * time.Second)
	if _, err := d.Sense(ctx); !errors.Is(err, ErrStale) {
		t.Fatalf("Sense = %v, want ErrStale", err)
	}
	// Not ready within a short Sense that restarts the chip: nothing, not
	// ErrStale (the chip needs a period for its first value after a start).
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if rs, err := d.Sense(short); rs != nil || err != nil {
		t.Fatalf("Sense restarting the chip = %v, %v; want nothing", rs, err)
	}
	c.mu.Lock()
	c.ready = true
	c.mu.Unlock()
	if rs, err := d.Sense(context.Background()); err != nil || len(rs) != 3 {
		t.Fatalf("Sense after restart = %v, %v", rs, err)
	}
	cmds := c.commands()
	if n := count(cmds, cmdSetASC); n != 2 {
		t.Fatalf("set_automatic_self_calibration_enabled sent %d times, want 2 (New, restart): %x", n, cmds)
	}
	i := slices.Index(cmds[4:], cmdSetASC) + 4 // the restart's
	if cmds[i-1] != cmdStop || cmds[i+1] != cmdStart {
		t.Fatalf("restart sent %x, want stop, settings, start", cmds)
	}
}

func TestDriver_settings(t *testing.T) {
	spec := func(opts map[string]sensors.Option) sensors.Spec { return sensorstest.Spec("scd4x", opts) }
	sensorstest.CheckErrors(t, Driver(), spec(map[string]sensors.Option{
		"temperature_offset":         {Value: 25, Line: 11},
		"altitude":                   {Value: 3500, Line: 12},
		"automatic_self_calibration": {Value: "off", Line: 13},
		"calibrate_command":          {Value: 1, Line: 14},
	}), "gw.yaml:11: temperature_offset: 25 °C is out of range: want 0 to 20",
		"gw.yaml:12: altitude: 3500 m is out of range: want 0 to 3000",
		"gw.yaml:13: automatic_self_calibration: want true or false, got off",
		"gw.yaml:14: calibrate_command: want true or false, got 1")
	sensorstest.CheckErrors(t, Driver(), spec(map[string]sensors.Option{
		"altitude":         {Value: 100, Line: 11},
		"ambient_pressure": {Value: 500, Line: 12},
	}), "gw.yaml:12: ambient_pressure: 500 hPa is out of range: want 700 to 1200",
		"gw.yaml:12: ambient_pressure: set altitude or ambient_pressure, not both (the pressure overrides the altitude)")
	sensorstest.CheckErrors(t, Driver(), spec(map[string]sensors.Option{
		"persist_settings": {Value: true, Line: 11},
		"ambient_pressure": {Value: 1013.25, Line: 12},
	}), "gw.yaml:11: persist_settings: nothing to persist: set automatic_self_calibration, temperature_offset or altitude (ambient_pressure is never stored)")
	sensorstest.CheckErrors(t, Driver(), spec(map[string]sensors.Option{
		"persist_settings":           {Value: true, Line: 11},
		"automatic_self_calibration": {Value: false, Line: 12},
		"temperature_offset":         {Value: 2.5, Line: 13},
		"altitude":                   {Value: 450, Line: 14},
		"calibrate_command":          {Value: true, Line: 15},
	}))
	c := &chip{}
	s, err := Driver().Open(spec(map[string]sensors.Option{
		"automatic_self_calibration": {Value: false, Line: 12},
		"calibrate_command":          {Value: true, Line: 15},
	}), &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": c}})
	if err != nil {
		t.Fatal(err)
	}
	if cm, ok := s.(sensors.Commander); !ok || !slices.Equal(cm.Commands(), []string{"calibrate"}) {
		t.Fatalf("the scd4x sensor with calibrate_command is not a Commander with calibrate")
	}
	if count(c.commands(), cmdSetASC) != 1 {
		t.Fatalf("commands %x, want set_automatic_self_calibration_enabled", c.commands())
	}
}
