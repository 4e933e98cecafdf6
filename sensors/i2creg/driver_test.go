package i2creg

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

// spec builds a config entry at line 10 of gw.yaml whose options stand on
// the lines given with them.
func spec(opts map[string]sensors.Option) sensors.Spec {
	return sensors.Spec{Name: "reg", Driver: "i2c_register", File: "gw.yaml", Line: 10,
		Options: sensors.Options{File: "gw.yaml", Values: opts}}
}

func TestDriver_Check(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]sensors.Option
		want []string // substrings of the error; none means valid
	}{
		{name: "minimal", opts: map[string]sensors.Option{
			"address": {Value: 0x48, Line: 11}, "register": {Value: 0, Line: 12}}},
		{name: "everything", opts: map[string]sensors.Option{
			"bus": {Value: "/dev/i2c-3", Line: 11}, "address": {Value: "0x77", Line: 12},
			"register": {Value: 255, Line: 13}, "format": {Value: "s32le", Line: 14},
			"length": {Value: 3, Line: 15}, "scale": {Value: 0.5, Line: 16}, "offset": {Value: -3, Line: 17},
			"unit": {Value: "lx", Line: 18}, "quantity": {Value: "illuminance", Line: 19}}},
		{name: "missing address and register", opts: map[string]sensors.Option{},
			want: []string{"gw.yaml:10: address: missing", "gw.yaml:10: register: missing"}},
		{name: "reserved address", opts: map[string]sensors.Option{
			"address": {Value: 0x78, Line: 11}, "register": {Value: 1, Line: 12}},
			want: []string{"gw.yaml:11: address: 120 (0x78) is out of range 0x3..0x77"}},
		{name: "register out of range", opts: map[string]sensors.Option{
			"address": {Value: 0x48, Line: 11}, "register": {Value: 256, Line: 12}},
			want: []string{"gw.yaml:12: register: 256"}},
		{name: "bad bus", opts: map[string]sensors.Option{
			"bus": {Value: "i2c1", Line: 11}, "address": {Value: 0x48, Line: 12}, "register": {Value: 1, Line: 13}},
			want: []string{`gw.yaml:11: bus: "i2c1" is not an I²C bus`}},
		{name: "bad format", opts: map[string]sensors.Option{
			"address": {Value: 0x48, Line: 11}, "register": {Value: 1, Line: 12}, "format": {Value: "u24", Line: 13}},
			want: []string{`gw.yaml:13: format: "u24" is not one of`}},
		{name: "length longer than format", opts: map[string]sensors.Option{
			"address": {Value: 0x48, Line: 11}, "register": {Value: 1, Line: 12},
			"format": {Value: "u16be", Line: 13}, "length": {Value: 4, Line: 14}},
			want: []string{"gw.yaml:14: length: 4 bytes cannot be read as u16be"}},
		{name: "zero scale", opts: map[string]sensors.Option{
			"address": {Value: 0x48, Line: 11}, "register": {Value: 1, Line: 12}, "scale": {Value: 0, Line: 13}},
			want: []string{"gw.yaml:13: scale: must not be 0"}},
		{name: "quantity with slash", opts: map[string]sensors.Option{
			"address": {Value: 0x48, Line: 11}, "register": {Value: 1, Line: 12}, "quantity": {Value: "a/b", Line: 13}},
			want: []string{"gw.yaml:13: quantity:"}},
		{name: "misspelt key", opts: map[string]sensors.Option{
			"address": {Value: 0x48, Line: 11}, "register": {Value: 1, Line: 12}, "fromat": {Value: "u8", Line: 13}},
			want: []string{"gw.yaml:13: fromat: unknown option"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Driver().Check(spec(tt.opts))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check = nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestDriver_Open(t *testing.T) {
	bus := &i2ctest.Playback{
		Ops: []i2ctest.IO{
			{Addr: 0x48, W: []byte{0x05}, R: []byte{0xFF, 0x38}}, // register 5: s16be -200
		},
		DontPanic: true,
	}
	hw := &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": bus}} // "/dev/i2c-1" must find it
	s, err := Driver().Open(spec(map[string]sensors.Option{
		"bus": {Value: "/dev/i2c-1", Line: 11}, "address": {Value: 0x48, Line: 12},
		"register": {Value: 5, Line: 13}, "format": {Value: "s16be", Line: 14},
		"scale": {Value: 0.5, Line: 15}, "unit": {Value: "°C", Line: 16}, "quantity": {Value: "temperature", Line: 17},
	}), hw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := sensors.Reading{Quantity: "temperature", Value: -100, Unit: "°C"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("Sense = %+v, want %+v", got, want)
	}
	if err := s.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDriver_Open_errors(t *testing.T) {
	opts := map[string]sensors.Option{"address": {Value: 0x48, Line: 12}, "register": {Value: 5, Line: 13}}
	_, err := Driver().Open(spec(opts), &sensorstest.Hardware{})
	if err == nil || !strings.HasPrefix(err.Error(), "i2creg: sensorstest: no I2C bus \"1\"") {
		t.Fatalf("Open with a missing bus = %v, want the hardware's error", err)
	}
	var oe *sensors.OptionError
	if _, err := Driver().Open(spec(map[string]sensors.Option{}), &sensorstest.Hardware{}); !errors.As(err, &oe) {
		t.Fatalf("Open with bad options = %v, want an option error before any bus", err)
	}
}

func TestParseBus(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"1", "1", true},
		{"0", "0", true},
		{"/dev/i2c-1", "1", true},
		{"/dev/i2c-22", "22", true},
		{"01", "1", true},
		{"", "", false},
		{"/dev/i2c-", "", false},
		{"I2C1", "", false},
		{"-1", "", false},
		{"+1", "", false},
		{" 1", "", false},
		{"/dev/i2c-1x", "", false},
		{"99999", "", false},
		{"/dev/spidev0.0", "", false},
	}
	for _, tt := range tests {
		got, err := ParseBus(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseBus(%q) = %q, %v; want %q, ok=%t", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBus) {
			t.Errorf("ParseBus(%q) error %v is not ErrBus", tt.in, err)
		}
	}
}
