package tmp102

import (
	"context"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

const addr = 0x48

// newOps is New through periph: read the configuration register (0x01,
// power-up value 0x60A0: 12-bit, 4 Hz, comparator), write it back with the
// shutdown and thermostat bits clear.
var newOps = []i2ctest.IO{
	{Addr: addr, W: []byte{0x01}, R: []byte{0x60, 0xA0}},
	{Addr: addr, W: []byte{0x01, 0x60, 0xA0}},
}

// The temperature register: 12 bits of 0.0625 °C, two's complement,
// left-justified (datasheet table 5: 0x190 = 25 °C, 0xE70 = -25 °C,
// 0x7FF = 127.9375 °C).
func TestDev_Sense(t *testing.T) {
	tests := []struct {
		r    []byte
		want float64
	}{
		{[]byte{0x19, 0x00}, 25},
		{[]byte{0xE7, 0x00}, -25},
		{[]byte{0x7F, 0xF0}, 127.9375},
		{[]byte{0xFF, 0xF0}, -0.0625},
	}
	for _, tt := range tests {
		bus := &i2ctest.Playback{Ops: append(append([]i2ctest.IO(nil), newOps...), i2ctest.IO{Addr: addr, W: []byte{0x00}, R: tt.r}), DontPanic: true}
		d, err := New(bus, addr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Sense(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Quantity != "temperature" || got[0].Unit != "°C" || math.Abs(got[0].Value-tt.want) > 1e-6 {
			t.Fatalf("Sense(% x) = %+v, want %v °C", tt.r, got, tt.want)
		}
		if err := d.Halt(); err != nil {
			t.Fatal(err)
		}
		if err := bus.Close(); err != nil { // Halt sent nothing
			t.Fatal(err)
		}
	}
}

func TestDev_errors(t *testing.T) {
	if _, err := New(&i2ctest.Playback{DontPanic: true}, addr); err == nil || !strings.HasPrefix(err.Error(), "tmp102: no answer at playback(0x48): ") {
		t.Fatalf("New without a chip = %v", err)
	}
	if _, err := New(&i2ctest.Playback{}, 0x4C); err == nil {
		t.Fatal("New accepted 0x4c")
	}
	d, err := New(&i2ctest.Playback{Ops: newOps, DontPanic: true}, addr)
	if err != nil {
		t.Fatal(err)
	}
	sensorstest.SenseFails(t, d, "tmp102: tmp102{playback(0x48)}: sense: ")
}

func TestDriver(t *testing.T) {
	sensorstest.CheckErrors(t, Driver(), sensorstest.Spec("tmp102", map[string]sensors.Option{"adress": {Value: 0x49, Line: 11}}), `gw.yaml:11: adress: unknown option for driver tmp102 (did you mean "address"?)`)
	bus := &i2ctest.Playback{Ops: newOps, DontPanic: true}
	if s, err := Driver().Open(sensorstest.Spec("tmp102", nil), &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": bus}}); err != nil || s == nil {
		t.Fatalf("Open = %v, %v", s, err)
	}
}
