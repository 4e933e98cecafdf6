package gpio

import (
	"context"
	"errors"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/edgegw/edgegw/sensors"
)

func TestNewOut_initial(t *testing.T) {
	for _, l := range []gpio.Level{gpio.High, gpio.Low} {
		pin := &gpiotest.Pin{N: "GPIO22", L: !l}
		o, err := NewOut(pin, OutConfig{Initial: l})
		if err != nil {
			t.Fatal(err)
		}
		if pin.Read() != l {
			t.Fatalf("pin at %v after NewOut, want %v", pin.Read(), l)
		}
		assertReadings(t, sense(t, o), []sensors.Reading{{Quantity: "state", Value: levelValue(l)}})
	}
}

func TestOut_Set(t *testing.T) {
	tests := []struct {
		payload string
		want    gpio.Level
	}{
		{"on", gpio.High}, {"ON", gpio.High}, {" On\n", gpio.High}, {"1", gpio.High},
		{"true", gpio.High}, {"TRUE", gpio.High}, {"\ttrue ", gpio.High},
		{"off", gpio.Low}, {"OFF", gpio.Low}, {"0", gpio.Low}, {"false", gpio.Low}, {" FaLsE\r\n", gpio.Low},
	}
	for _, tt := range tests {
		pin := &gpiotest.Pin{N: "GPIO22"}
		o, err := NewOut(pin, OutConfig{Initial: !tt.want})
		if err != nil {
			t.Fatal(err)
		}
		got, err := o.Set(context.Background(), []byte(tt.payload))
		if err != nil {
			t.Fatalf("Set(%q) = %v", tt.payload, err)
		}
		if pin.Read() != tt.want {
			t.Fatalf("Set(%q): pin at %v, want %v", tt.payload, pin.Read(), tt.want)
		}
		want := []sensors.Reading{{Quantity: "state", Value: levelValue(tt.want)}}
		assertReadings(t, got, want)
		assertReadings(t, sense(t, o), want)
	}
}

func TestOut_Set_badPayload(t *testing.T) {
	for _, payload := range []string{"", " ", "2", "-1", "onn", "yes", "high", "o n", "\x00", `{"state":"on"}`, strings.Repeat("on", 1000)} {
		pin := &gpiotest.Pin{N: "GPIO22"}
		o, err := NewOut(pin, OutConfig{Initial: gpio.High})
		if err != nil {
			t.Fatal(err)
		}
		got, err := o.Set(context.Background(), []byte(payload))
		if !errors.Is(err, ErrPayload) || got != nil {
			t.Fatalf("Set(%q) = %v, %v; want ErrPayload", payload, got, err)
		}
		if len(err.Error()) > 200 {
			t.Fatalf("error quotes the whole payload: %d bytes", len(err.Error()))
		}
		if pin.Read() != gpio.High {
			t.Fatalf("Set(%q) changed the pin", payload)
		}
	}
}

func TestOut_Halt(t *testing.T) {
	tests := []struct {
		name          string
		initial, safe gpio.Level
		set           string
	}{
		{"safe off after on", gpio.Low, gpio.Low, "on"},
		{"safe on after off", gpio.High, gpio.High, "off"},
		{"safe differs from initial", gpio.Low, gpio.High, "off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pin := &gpiotest.Pin{N: "GPIO22"}
			o, err := NewOut(pin, OutConfig{Initial: tt.initial, Safe: tt.safe})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := o.Set(context.Background(), []byte(tt.set)); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ {
				if err := o.Halt(); err != nil {
					t.Fatal(err)
				}
				if pin.Read() != tt.safe {
					t.Fatalf("pin at %v after Halt, want %v", pin.Read(), tt.safe)
				}
			}
			if _, err := o.Set(context.Background(), []byte("on")); !errors.Is(err, ErrHalted) {
				t.Fatalf("Set after Halt = %v, want ErrHalted", err)
			}
			if _, err := o.Sense(context.Background()); !errors.Is(err, ErrHalted) {
				t.Fatalf("Sense after Halt = %v, want ErrHalted", err)
			}
			if pin.Read() != tt.safe {
				t.Fatal("pin moved after Halt")
			}
		})
	}
}

// brokenPin is a pin whose driver fails every write.
type brokenPin struct{ gpiotest.Pin }

var errBroken = errors.New("line busy")

func (p *brokenPin) Out(gpio.Level) error { return errBroken }

func TestOut_pinErrors(t *testing.T) {
	if o, err := NewOut(&brokenPin{}, OutConfig{}); o != nil || !errors.Is(err, errBroken) {
		t.Fatalf("NewOut = %v, %v; want the pin's error", o, err)
	}
	pin := &gpiotest.Pin{N: "GPIO22"}
	o, err := NewOut(pin, OutConfig{})
	if err != nil {
		t.Fatal(err)
	}
	o.pin = &brokenPin{Pin: gpiotest.Pin{N: "GPIO22"}} // the line is taken away
	if _, err := o.Set(context.Background(), []byte("on")); !errors.Is(err, errBroken) {
		t.Fatalf("Set = %v, want the pin's error", err)
	}
	assertReadings(t, sense(t, o), []sensors.Reading{{Quantity: "state", Value: 0}}) // still the old level
	err1, err2 := o.Halt(), o.Halt()
	if !errors.Is(err1, errBroken) || err2 != err1 {
		t.Fatalf("Halt = %v then %v; want the pin's error twice", err1, err2)
	}
}

func TestOut_Set_canceled(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO22"}
	o, err := NewOut(pin, OutConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := o.Set(ctx, []byte("on")); !errors.Is(err, context.Canceled) || pin.Read() != gpio.Low {
		t.Fatalf("Set = %v with pin at %v; want context.Canceled and the pin untouched", err, pin.Read())
	}
}
