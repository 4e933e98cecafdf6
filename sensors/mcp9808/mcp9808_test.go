package mcp9808

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

const addr = 0x18

// newOps is New: the id registers, then periph's configuration: resolution
// register 0x08 = 0x03 (0.0625 °C), CONFIG register 0x01 = 0x0000
// (continuous conversion).
var newOps = []i2ctest.IO{
	{Addr: addr, W: []byte{0x06}, R: []byte{0x00, 0x54}}, // manufacturer id
	{Addr: addr, W: []byte{0x07}, R: []byte{0x04, 0x00}}, // device id 0x04, revision 0
	{Addr: addr, W: []byte{0x08, 0x03}},
	{Addr: addr, W: []byte{0x01, 0x00, 0x00}},
}

// The ambient temperature register (0x05): three alert flags, a sign bit
// and 12 bits of 0.0625 °C. 0xC194 is the datasheet's shape: flags set,
// 0x194 = 404 × 0.0625 = 25.25 °C.
func TestDev_Sense(t *testing.T) {
	tests := []struct {
		name string
		r    []byte
		want float64
	}{
		{"25.25 with alert flags", []byte{0xC1, 0x94}, 25.25},
		{"negative", []byte{0x1E, 0x70}, -25}, // sign bit: 0xE70 × 0.0625 − 256
		{"zero", []byte{0x00, 0x00}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := append(append([]i2ctest.IO(nil), newOps...),
				i2ctest.IO{Addr: addr, W: []byte{0x05}, R: tt.r},
				i2ctest.IO{Addr: addr, W: []byte{0x01, 0x01, 0x00}}, // Halt: CONFIG SHDN
			)
			bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
			d, err := New(bus, addr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.Sense(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Quantity != "temperature" || got[0].Unit != "°C" || math.Abs(got[0].Value-tt.want) > 1e-6 {
				t.Fatalf("Sense = %+v, want %v °C", got, tt.want)
			}
			if err := d.Halt(); err != nil {
				t.Fatal(err)
			}
			if err := d.Halt(); err != nil {
				t.Fatal(err)
			}
			if err := bus.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNew_errors(t *testing.T) {
	if _, err := New(&i2ctest.Playback{DontPanic: true}, addr); err == nil || !strings.HasPrefix(err.Error(), "mcp9808: no answer at playback(0x18): ") {
		t.Fatalf("New without a chip = %v", err)
	}
	other := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: addr, W: []byte{0x06}, R: []byte{0x00, 0x54}},
		{Addr: addr, W: []byte{0x07}, R: []byte{0x06, 0x00}}, // another Microchip sensor
	}, DontPanic: true}
	if _, err := New(other, addr); !errors.Is(err, ErrWrongChip) {
		t.Fatalf("New on another chip = %v, want ErrWrongChip", err)
	}
	if err := other.Close(); err != nil { // nothing written to it
		t.Fatal(err)
	}
	if _, err := New(&i2ctest.Playback{}, 0x20); err == nil {
		t.Fatal("New accepted 0x20")
	}
}

func TestDev_Sense_errors(t *testing.T) {
	d, err := New(&i2ctest.Playback{Ops: newOps, DontPanic: true}, addr)
	if err != nil {
		t.Fatal(err)
	}
	sensorstest.SenseFails(t, d, "mcp9808: mcp9808{playback(0x18)}: sense: ")
}

func TestDriver(t *testing.T) {
	sensorstest.CheckErrors(t, Driver(), sensorstest.Spec("mcp9808", map[string]sensors.Option{"address": {Value: 0x48, Line: 11}}), "gw.yaml:11: address: 0x48 is not an address of the mcp9808")
	bus := &i2ctest.Playback{Ops: newOps, DontPanic: true}
	if s, err := Driver().Open(sensorstest.Spec("mcp9808", nil), &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": bus}}); err != nil || s == nil {
		t.Fatalf("Open = %v, %v", s, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}
