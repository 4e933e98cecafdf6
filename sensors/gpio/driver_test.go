package gpio

import (
	"context"
	"errors"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

func TestValidatePinName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
		hint string
	}{
		{"GPIO17", true, ""},
		{"GPIO4", true, ""},
		{"17", true, ""},
		{"P1_11", true, ""},
		{"P9_12", true, ""},
		{"I2C1_SDA", true, ""},
		{"PWM0_OUT", true, ""},
		{"", false, "empty"},
		{"gpio17", false, `did you mean "GPIO17"?`},
		{"p1_11", false, `did you mean "P1_11"?`},
		{"GPIO", false, "GPIO must be followed by a number"},
		{"GPIO17a", false, "GPIO must be followed by a number"},
		{"GPIO-17", false, "GPIO must be followed by a number"},
		{"GPIO 17", false, "GPIO must be followed by a number"},
		{"-1", false, "want GPIO<n>"},
		{"1.5", false, "want GPIO<n>"},
		{"_X", false, "want GPIO<n>"},
		{"/sys/class/gpio/gpio17", false, "want GPIO<n>"},
		{strings.Repeat("A", 33), false, "longer than 32"},
	}
	for _, tt := range tests {
		err := ValidatePinName(tt.name)
		if tt.ok != (err == nil) {
			t.Errorf("ValidatePinName(%q) = %v, want ok=%t", tt.name, err, tt.ok)
			continue
		}
		if err != nil && (!errors.Is(err, ErrPinName) || !strings.Contains(err.Error(), tt.hint)) {
			t.Errorf("ValidatePinName(%q) = %v, want ErrPinName with %q", tt.name, err, tt.hint)
		}
	}
}

// spec builds a config entry at line 10 of gw.yaml whose options stand on
// the lines given with them.
func spec(driver string, opts map[string]sensors.Option) sensors.Spec {
	return sensors.Spec{Name: "door", Driver: driver, File: "gw.yaml", Line: 10,
		Options: sensors.Options{File: "gw.yaml", Values: opts}}
}

func checkCases(t *testing.T, d sensors.Driver, tests []checkCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.Check(spec("gpio", tt.opts))
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

type checkCase struct {
	name string
	opts map[string]sensors.Option
	want []string // substrings of the error; none means valid
}

func TestInDriver_Check(t *testing.T) {
	pin := sensors.Option{Value: "GPIO17", Line: 11}
	checkCases(t, InDriver(), []checkCase{
		{name: "minimal", opts: map[string]sensors.Option{"pin": pin}},
		{name: "everything", opts: map[string]sensors.Option{"pin": pin,
			"pull": {Value: "up", Line: 12}, "edge": {Value: "falling", Line: 13},
			"debounce": {Value: "5ms", Line: 14}, "mode": {Value: "counter", Line: 15}}},
		{name: "pin as a number", opts: map[string]sensors.Option{"pin": {Value: 17, Line: 11}}},
		{name: "no pin", opts: map[string]sensors.Option{}, want: []string{"gw.yaml:10: pin: missing required option"}},
		{name: "lower-case pin", opts: map[string]sensors.Option{"pin": {Value: "gpio17", Line: 11}},
			want: []string{`gw.yaml:11: pin: gpio: bad pin name: "gpio17": pin names are case-sensitive; did you mean "GPIO17"?`}},
		{name: "bad values everywhere", opts: map[string]sensors.Option{"pin": pin,
			"pull": {Value: "sideways", Line: 12}, "edge": {Value: "up", Line: 13},
			"debounce": {Value: "fast", Line: 14}, "mode": {Value: "toggle", Line: 15}, "invert": {Value: true, Line: 16}},
			want: []string{`gw.yaml:12: pull: "sideways" is not one of [none up down]`,
				`gw.yaml:13: edge: "up" is not one of [both rising falling]`,
				"gw.yaml:14: debounce: want a duration",
				`gw.yaml:15: mode: "toggle" is not one of [state counter]`,
				"gw.yaml:16: invert: unknown option"}},
	})
}

func TestOutDriver_Check(t *testing.T) {
	pin := sensors.Option{Value: "GPIO22", Line: 11}
	checkCases(t, OutDriver(), []checkCase{
		{name: "minimal", opts: map[string]sensors.Option{"pin": pin}},
		{name: "words", opts: map[string]sensors.Option{"pin": pin,
			"initial": {Value: "on", Line: 12}, "safe": {Value: "off", Line: 13}}},
		{name: "YAML booleans", opts: map[string]sensors.Option{"pin": pin,
			"initial": {Value: true, Line: 12}, "safe": {Value: false, Line: 13}}},
		{name: "no pin", opts: map[string]sensors.Option{}, want: []string{"gw.yaml:10: pin: missing"}},
		{name: "bad levels", opts: map[string]sensors.Option{"pin": pin,
			"initial": {Value: "maybe", Line: 12}, "safe": {Value: 2, Line: 13}},
			want: []string{`gw.yaml:12: initial: "maybe" is not on or off`, `gw.yaml:13: safe: "2" is not on or off`}},
		{name: "input keys", opts: map[string]sensors.Option{"pin": pin, "pull": {Value: "up", Line: 12}},
			want: []string{"gw.yaml:12: pull: unknown option"}},
	})
}

func TestInDriver_Open(t *testing.T) {
	pin := newPin()
	hw := &sensorstest.Hardware{Pins: map[string]gpio.PinIO{"GPIO17": pin}}
	s, err := InDriver().Open(spec("gpio_in", map[string]sensors.Option{
		"pin": {Value: "GPIO17", Line: 11}, "pull": {Value: "up", Line: 12}}), hw)
	if err != nil {
		t.Fatal(err)
	}
	if pin.P != gpio.PullUp {
		t.Fatalf("pull = %v, want PullUp", pin.P)
	}
	assertReadings(t, sense(t, s), []sensors.Reading{{Quantity: "state", Value: 1}})
	if _, ok := s.(sensors.Watcher); !ok {
		t.Fatal("gpio_in is not a Watcher")
	}
	if err := s.Halt(); err != nil {
		t.Fatal(err)
	}
}

func TestOutDriver_Open(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO22"}
	hw := &sensorstest.Hardware{Pins: map[string]gpio.PinIO{"GPIO22": pin}}
	s, err := OutDriver().Open(spec("gpio_out", map[string]sensors.Option{
		"pin": {Value: "GPIO22", Line: 11}, "initial": {Value: "on", Line: 12}, "safe": {Value: "off", Line: 13}}), hw)
	if err != nil {
		t.Fatal(err)
	}
	if pin.Read() != gpio.High {
		t.Fatal("initial level not driven")
	}
	a, ok := s.(sensors.Actuator)
	if !ok {
		t.Fatal("gpio_out is not an Actuator")
	}
	if _, err := a.Set(context.Background(), []byte("off")); err != nil || pin.Read() != gpio.Low {
		t.Fatalf("Set(off) = %v, pin %v", err, pin.Read())
	}
	if _, err := a.Set(context.Background(), []byte("on")); err != nil || pin.Read() != gpio.High {
		t.Fatalf("Set(on) = %v, pin %v", err, pin.Read())
	}
	if err := s.Halt(); err != nil || pin.Read() != gpio.Low {
		t.Fatalf("Halt = %v, pin %v; want the safe level, low", err, pin.Read())
	}
}

func TestDrivers_Open_noPin(t *testing.T) {
	hw := &sensorstest.Hardware{}
	opts := map[string]sensors.Option{"pin": {Value: "GPIO99", Line: 11}}
	for name, d := range map[string]sensors.Driver{"gpio_in": InDriver(), "gpio_out": OutDriver()} {
		if s, err := d.Open(spec(name, opts), hw); s != nil || err == nil || !strings.Contains(err.Error(), `"GPIO99"`) {
			t.Errorf("%s: Open on a board without the pin = %v, %v; want an error naming it", name, s, err)
		}
		if s, err := d.Open(spec(name, map[string]sensors.Option{}), hw); s != nil || err == nil {
			t.Errorf("%s: Open without a pin = %v, %v; want an error", name, s, err)
		}
	}
}
