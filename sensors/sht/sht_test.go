package sht

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

const addr = 0x44

// probeOps is New's check that the chip answers: the SHT3x's status
// register (command 0xF32D, one word; 0x8010 after power-up: alert pending,
// reset detected), the SHT4x's serial number (command 0x89, two words).
func probeOps(m *Model) []i2ctest.IO {
	if m == SHT3x {
		return []i2ctest.IO{{Addr: addr, W: []byte{0xF3, 0x2D}}, {Addr: addr, R: i2cdev.Encode(0x8010)}}
	}
	return []i2ctest.IO{{Addr: addr, W: []byte{0x89}}, {Addr: addr, R: i2cdev.Encode(0x1234, 0x5678)}}
}

// measureOps is one Sense: the measurement command, then the two words.
func measureOps(cmd []byte, answer []byte) []i2ctest.IO {
	return []i2ctest.IO{{Addr: addr, W: cmd}, {Addr: addr, R: answer}}
}

// S = 0x6666 = 26214 = 0.4 × 65535 gives round values: T = -45 + 175 × 0.4
// = 25 °C; SHT3x RH = 40 %, SHT4x RH = -6 + 125 × 0.4 = 44 %.
func TestDev_Sense(t *testing.T) {
	tests := []struct {
		name     string
		model    *Model
		mode     string
		cmd      []byte
		answer   []byte
		temp, rh float64
	}{
		{"sht3x high", SHT3x, "", []byte{0x24, 0x00}, i2cdev.Encode(0x6666, 0x6666), 25, 40},
		{"sht3x medium", SHT3x, "medium", []byte{0x24, 0x0B}, i2cdev.Encode(0x6666, 0x6666), 25, 40},
		{"sht3x low", SHT3x, "low", []byte{0x24, 0x16}, i2cdev.Encode(0, 0xFFFF), -45, 100},
		{"sht4x high", SHT4x, "high", []byte{0xFD}, i2cdev.Encode(0x6666, 0x6666), 25, 44},
		{"sht4x medium", SHT4x, "medium", []byte{0xF6}, i2cdev.Encode(0xFFFF, 0x6666), 130, 44},
		{"sht4x low", SHT4x, "low", []byte{0xE0}, i2cdev.Encode(0x6666, 0x6666), 25, 44},
		{"sht4x humidity cut at 100", SHT4x, "", []byte{0xFD}, i2cdev.Encode(0x6666, 0xFFFF), 25, 100}, // -6 + 125 = 119
		{"sht4x humidity cut at 0", SHT4x, "", []byte{0xFD}, i2cdev.Encode(0x6666, 0x0000), 25, 0},     // -6
		// The datasheets' CRC example, 0xBEEF with CRC 0x92, as the temperature word.
		{"datasheet CRC example", SHT4x, "", []byte{0xFD}, append([]byte{0xBE, 0xEF, 0x92}, i2cdev.Encode(0x6666)...), -45 + 175*48879.0/65535, 44},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: append(probeOps(tt.model), measureOps(tt.cmd, tt.answer)...), DontPanic: true}
			d, err := New(bus, addr, tt.model, tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.Sense(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Quantity != "temperature" || got[0].Unit != "°C" || math.Abs(got[0].Value-tt.temp) > 1e-9 ||
				got[1].Quantity != "humidity" || got[1].Unit != "%" || math.Abs(got[1].Value-tt.rh) > 1e-9 {
				t.Fatalf("Sense = %+v, want %v °C, %v %%", got, tt.temp, tt.rh)
			}
			if err := bus.Close(); err != nil { // every transaction used
				t.Fatal(err)
			}
		})
	}
}

// A corrupted answer is an error matching i2cdev.ErrCRC, with no reading.
func TestDev_Sense_badCRC(t *testing.T) {
	for _, bad := range [][]byte{
		{0x66, 0x66, 0x00, 0x66, 0x66, 0x93}, // temperature CRC wrong (0x93 is right)
		{0x66, 0x66, 0x93, 0x66, 0x67, 0x93}, // humidity word flipped a bit
		{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, // nothing drives the bus
	} {
		bus := &i2ctest.Playback{Ops: append(probeOps(SHT4x), measureOps([]byte{0xFD}, bad)...), DontPanic: true}
		d, err := New(bus, addr, SHT4x, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Sense(context.Background())
		if !errors.Is(err, i2cdev.ErrCRC) || got != nil {
			t.Fatalf("Sense(% x) = %v, %v; want an ErrCRC error", bad, got, err)
		}
		if !strings.HasPrefix(err.Error(), "sht4x{playback(0x44)}: measure: i2cdev: CRC mismatch") {
			t.Fatalf("error %q lacks its context", err)
		}
	}
}

func TestNew_errors(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true} // nothing answers
	if _, err := New(bus, addr, SHT3x, ""); err == nil || !strings.HasPrefix(err.Error(), "sht3x: no answer at playback(0x44): ") {
		t.Fatalf("New without a chip = %v", err)
	}
	bad := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: addr, W: []byte{0x89}}, {Addr: addr, R: []byte{1, 2, 3, 4, 5, 6}}}, DontPanic: true}
	if _, err := New(bad, addr, SHT4x, ""); !errors.Is(err, i2cdev.ErrCRC) {
		t.Fatalf("New with a corrupted serial number = %v, want ErrCRC", err)
	}
	unused := &i2ctest.Playback{Ops: probeOps(SHT3x), DontPanic: true}
	if _, err := New(unused, 0x46, SHT3x, ""); err == nil {
		t.Fatal("New accepted 0x46 for an SHT3x")
	}
	if _, err := New(unused, addr, SHT3x, "extreme"); err == nil {
		t.Fatal("New accepted repeatability extreme")
	}
	if unused.Count != 0 {
		t.Fatalf("bad arguments used the bus: %d transactions", unused.Count)
	}
}

func TestDev_Sense_busErrorAndCancel(t *testing.T) {
	ops := probeOps(SHT3x)
	bus := &i2ctest.Playback{Ops: append(ops, i2ctest.IO{Addr: addr, W: []byte{0x24, 0x00}}), DontPanic: true} // no answer to the read
	d, err := New(bus, addr, SHT3x, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Sense(context.Background()); err == nil || got != nil {
		t.Fatalf("Sense with a failing read = %v, %v", got, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sense canceled = %v", err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Sense(context.Background()); !errors.Is(err, sensors.ErrHalted) {
		t.Fatalf("Sense after Halt = %v", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDriver_Check(t *testing.T) {
	tests := []struct {
		name  string
		model *Model
		opts  map[string]sensors.Option
		want  string // "" means valid
	}{
		{"sht3x defaults", SHT3x, nil, ""},
		{"sht4x everything", SHT4x, map[string]sensors.Option{"bus": {Value: "/dev/i2c-0", Line: 11}, "address": {Value: 0x46, Line: 12}, "precision": {Value: "low", Line: 13}}, ""},
		{"sht3x has no 0x46", SHT3x, map[string]sensors.Option{"address": {Value: 0x46, Line: 12}}, "gw.yaml:12: address: 0x46 is not an address of the sht3x: want one of 0x44, 0x45"},
		{"bad precision", SHT4x, map[string]sensors.Option{"precision": {Value: "ultra", Line: 13}}, `gw.yaml:13: precision: "ultra" is not one of [high medium low]`},
		{"sht4x has precision", SHT4x, map[string]sensors.Option{"repeatability": {Value: "low", Line: 13}}, "gw.yaml:13: repeatability: unknown option for driver sht4x"},
		{"misspelt", SHT3x, map[string]sensors.Option{"repeatibility": {Value: "low", Line: 13}}, `gw.yaml:13: repeatibility: unknown option for driver sht3x (did you mean "repeatability"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Driver(tt.model).Check(sensorstest.Spec(tt.model.String(), tt.opts))
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Check = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDriver_Open(t *testing.T) {
	bus := &i2ctest.Playback{Ops: append(probeOps(SHT4x), measureOps([]byte{0xE0}, i2cdev.Encode(0x6666, 0x6666))...), DontPanic: true}
	hw := &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": bus}}
	s, err := Driver(SHT4x).Open(sensorstest.Spec("sht4x", map[string]sensors.Option{"precision": {Value: "low", Line: 11}}), hw)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Sense(context.Background()); err != nil || len(got) != 2 {
		t.Fatalf("Sense = %v, %v", got, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	qs, err := Driver(SHT3x).Quantities(sensorstest.Spec("sht3x", nil))
	if err != nil || len(qs) != 2 || qs[1] != (sensors.Quantity{Name: "humidity", Unit: "%"}) {
		t.Fatalf("Quantities = %v, %v", qs, err)
	}
}
