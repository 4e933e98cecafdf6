package ads1x15

import (
	"context"
	"errors"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

const addr = 0x48

// probe is New's read of the Config register; 0x8583 is its reset value
// (datasheet table 8).
var probe = i2ctest.IO{Addr: addr, W: []byte{0x01}, R: []byte{0x85, 0x83}}

// conversion is one single-shot conversion: write Config (register 0x01)
// with the word start, poll Config (OS = bit 15) through polls, read the
// Conversion register (0x00).
func conversion(start uint16, polls []uint16, result uint16) []i2ctest.IO {
	ops := []i2ctest.IO{{Addr: addr, W: []byte{0x01, byte(start >> 8), byte(start)}}}
	for _, p := range polls {
		ops = append(ops, i2ctest.IO{Addr: addr, W: []byte{0x01}, R: []byte{byte(p >> 8), byte(p)}})
	}
	return append(ops, i2ctest.IO{Addr: addr, W: []byte{0x00}, R: []byte{byte(result >> 8), byte(result)}})
}

func concat(parts ...[]i2ctest.IO) []i2ctest.IO {
	var out []i2ctest.IO
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDev_Sense(t *testing.T) {
	tests := []struct {
		name  string
		model *Model
		opts  Opts
		ops   []i2ctest.IO
		want  []sensors.Reading
	}{
		{
			name:  "ads1115 two inputs, two gains",
			model: ADS1115,
			opts:  Opts{Inputs: []Input{{Channel: 0, Range: 4.096}, {Channel: 3, Range: 0.256}}, DataRate: 860},
			ops: concat(
				// OS 1 | MUX 100 (AIN0) | PGA 001 (±4.096) | MODE 1 | DR 111 (860) | COMP_QUE 11
				conversion(0xC3E3, []uint16{0x43E3, 0xC3E3}, 0x4000), // busy once, then idle; 0x4000 = half scale
				// OS 1 | MUX 111 (AIN3) | PGA 101 (±0.256) | MODE 1 | DR 111 | COMP_QUE 11
				conversion(0xFBE3, []uint16{0xFBE3}, 0xFFFF), // -1 code
			),
			want: []sensors.Reading{{Quantity: "ain0", Value: 2.048, Unit: "V"}, {Quantity: "ain3", Value: -0.256 / 32768, Unit: "V"}},
		},
		{
			name:  "ads1115 default rate, full scale",
			model: ADS1115,
			opts:  Opts{Inputs: []Input{{Channel: 2, Range: 2.048}}},
			// MUX 110 (AIN2) | PGA 010 | DR 100 (128)
			ops:  conversion(0xE583, []uint16{0xE583}, 0x7FFF),
			want: []sensors.Reading{{Quantity: "ain2", Value: 2.048 * 32767 / 32768, Unit: "V"}},
		},
		{
			name:  "ads1015 12-bit, left-justified",
			model: ADS1015,
			opts:  Opts{Inputs: []Input{{Channel: 1, Range: 6.144}, {Channel: 0, Range: 1.024}}, DataRate: 3300},
			ops: concat(
				// MUX 101 (AIN1) | PGA 000 (±6.144) | DR 110 (3300)
				conversion(0xD1C3, []uint16{0xD1C3}, 0x7FF0), // code 2047
				// MUX 100 (AIN0) | PGA 011 (±1.024) | DR 110
				conversion(0xC7C3, []uint16{0xC7C3}, 0x8000), // code -2048
			),
			want: []sensors.Reading{{Quantity: "ain1", Value: 6.144 * 2047 / 2048, Unit: "V"}, {Quantity: "ain0", Value: -1.024, Unit: "V"}},
		},
		{
			name:  "ads1115 differential pairs",
			model: ADS1115,
			opts:  Opts{Inputs: []Input{{Channel: 0, Minus: 1, Range: 0.256}, {Channel: 2, Minus: 3, Range: 2.048}}, DataRate: 128},
			ops: concat(
				// MUX 000 (AIN0−AIN1) | PGA 101 (±0.256) | DR 100 (128)
				conversion(0x8B83, []uint16{0x8B83}, 0xC000), // code -16384: AIN1 above AIN0
				// MUX 011 (AIN2−AIN3) | PGA 010 (±2.048) | DR 100
				conversion(0xB583, []uint16{0xB583}, 0x2000), // code 8192
			),
			want: []sensors.Reading{{Quantity: "ain0_ain1", Value: -0.128, Unit: "V"}, {Quantity: "ain2_ain3", Value: 0.512, Unit: "V"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: append([]i2ctest.IO{probe}, tt.ops...), DontPanic: true}
			d, err := New(bus, addr, tt.model, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.Sense(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			sensorstest.CheckReadings(t, got, tt.want, 1e-12)
			if err := bus.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A conversion that never reports idle is an error, not the previous result.
func TestDev_Sense_busy(t *testing.T) {
	busy := make([]uint16, 9)
	for i := range busy {
		busy[i] = 0x43E3 // OS 0: converting
	}
	ops := conversion(0xC3E3, busy, 0)
	ops = ops[:len(ops)-1] // the conversion register is never read
	bus := &i2ctest.Playback{Ops: append([]i2ctest.IO{probe}, ops...), DontPanic: true}
	d, err := New(bus, addr, ADS1115, Opts{Inputs: []Input{{Channel: 0, Range: 4.096}}, DataRate: 860})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Sense(context.Background()); !errors.Is(err, ErrBusy) || got != nil {
		t.Fatalf("Sense = %v, %v; want ErrBusy", got, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNew_errors(t *testing.T) {
	in := []Input{{Channel: 0, Range: 4.096}}
	tests := []struct {
		name string
		addr uint16
		m    *Model
		opts Opts
		want string
	}{
		{"no chip", addr, ADS1115, Opts{Inputs: in}, "ads1115: no answer at playback(0x48): "},
		{"bad address", 0x47, ADS1115, Opts{Inputs: in}, "ads1115: address 0x47 is not one of"},
		{"no input", addr, ADS1015, Opts{}, "ads1015: no input"},
		{"bad rate", addr, ADS1015, Opts{Inputs: in, DataRate: 860}, "ads1015: data rate 860 is not one of"},
		{"bad range", addr, ADS1115, Opts{Inputs: []Input{{Channel: 0, Range: 5}}}, "bad input"},
		{"bad channel", addr, ADS1115, Opts{Inputs: []Input{{Channel: 4, Range: 4.096}}}, "bad input"},
		{"pair the multiplexer has not", addr, ADS1115, Opts{Inputs: []Input{{Channel: 1, Minus: 2, Range: 4.096}}}, "bad input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(&i2ctest.Playback{DontPanic: true}, tt.addr, tt.m, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDev_Sense_errors(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{probe}, DontPanic: true}
	d, err := New(bus, addr, ADS1115, Opts{Inputs: []Input{{Channel: 0, Range: 4.096}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Sense(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "ads1115{playback(0x48)}: convert ain0: start: ") {
		t.Fatalf("Sense with the chip gone = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sense canceled = %v", err)
	}
}

func TestDriver_Check(t *testing.T) {
	tests := []struct {
		name  string
		model *Model
		opts  map[string]sensors.Option
		want  []string // none: valid
	}{
		{"minimal", ADS1115, map[string]sensors.Option{"channels": {Value: map[string]any{"ain0": 4.096}, Line: 11}}, nil},
		{"everything", ADS1015, map[string]sensors.Option{"address": {Value: 0x4B, Line: 11}, "data_rate": {Value: 3300, Line: 12},
			"channels": {Value: map[string]any{"ain0": 6.144, "ain3": 0.256}, Line: 13}}, nil},
		{"differential", ADS1115, map[string]sensors.Option{"channels": {Value: map[string]any{"ain0_ain1": 0.256, "ain2_ain3": 2.048, "ain1": 4.096}, Line: 11}}, nil},
		{"bad pairs", ADS1115, map[string]sensors.Option{"channels": {Value: map[string]any{"ain1_ain2": 0.256, "ain3_ain1": 0.256, "ain0_": 1.024}, Line: 11}},
			[]string{`gw.yaml:11: channels: "ain1_ain2" is not an input`, `"ain3_ain1" is not an input`, `"ain0_" is not an input`}},
		{"missing channels", ADS1115, nil, []string{"gw.yaml:10: channels: missing required option"}},
		{"bad channels", ADS1115, map[string]sensors.Option{"channels": {Value: map[string]any{"a0": 4.096, "ain1": 5, "ain2": "x"}, Line: 11}},
			[]string{`gw.yaml:11: channels: "a0" is not an input: want ain0, ain1, ain2 or ain3 (against GND), or ain0_ain1`,
				"gw.yaml:11: channels: ain1: 5 is not a full-scale range: want one of 6.144, 4.096, 2.048, 1.024, 0.512, 0.256 (volts)",
				"gw.yaml:11: channels: ain2: x is not"}},
		{"channels a list", ADS1115, map[string]sensors.Option{"channels": {Value: []any{"ain0"}, Line: 11}},
			[]string{"gw.yaml:11: channels: want a map of input to full-scale range"}},
		{"ads1115 rate on an ads1015", ADS1015, map[string]sensors.Option{"channels": {Value: map[string]any{"ain0": 4.096}, Line: 11}, "data_rate": {Value: 860, Line: 12}},
			[]string{"gw.yaml:12: data_rate: 860 is not a data rate of the ads1015: want one of [128 250 490 920 1600 2400 3300]"}},
		{"misspelt", ADS1115, map[string]sensors.Option{"channels": {Value: map[string]any{"ain0": 4.096}, Line: 11}, "datarate": {Value: 8, Line: 12}},
			[]string{`gw.yaml:12: datarate: unknown option for driver ads1115 (did you mean "data_rate"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Driver(tt.model).Check(sensorstest.Spec(tt.model.String(), tt.opts))
			if len(tt.want) == 0 && err != nil {
				t.Fatalf("Check = %v", err)
			}
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Check = %v, want %q", err, w)
				}
			}
		})
	}
}

func TestDriver_Open(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{probe}, DontPanic: true}
	opts := map[string]sensors.Option{"channels": {Value: map[string]any{"ain3": 1.024, "ain1": 4.096}, Line: 11}}
	s, err := Driver(ADS1115).Open(sensorstest.Spec("ads1115", opts), &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": bus}})
	if err != nil || s == nil {
		t.Fatalf("Open = %v, %v", s, err)
	}
	qs, err := Driver(ADS1115).Quantities(sensorstest.Spec("ads1115", opts))
	if err != nil || len(qs) != 2 || qs[0] != (sensors.Quantity{Name: "ain1", Unit: "V"}) || qs[1].Name != "ain3" {
		t.Fatalf("Quantities = %v, %v", qs, err)
	}
}
