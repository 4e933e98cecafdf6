package bh1750

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

var powerOn = i2ctest.IO{Addr: AddrLow, W: []byte{0x01}}

// The datasheet's example ("Measurement sequence example", H-resolution
// mode): high byte 1000_0011, low byte 1001_0000, (2¹⁵ + 2⁹ + 2⁸ + 2⁷ + 2⁴)
// / 1.2 ≈ 28067 lx.
func TestDev_Sense(t *testing.T) {
	tests := []struct {
		res  string
		op   byte
		r    []byte
		want float64
	}{
		{"", 0x20, []byte{0x83, 0x90}, 28066.67},
		{"high", 0x20, []byte{0x00, 0x00}, 0},
		{"high2", 0x21, []byte{0x83, 0x90}, 14033.33},
		{"low", 0x23, []byte{0xFF, 0xFF}, 54612.5},
	}
	for _, tt := range tests {
		t.Run(tt.res, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: []i2ctest.IO{
				powerOn,
				{Addr: AddrLow, W: []byte{tt.op}}, // one-time measurement
				{Addr: AddrLow, R: tt.r},          // result, most significant byte first
				{Addr: AddrLow, W: []byte{0x00}},  // Halt: power down
			}, DontPanic: true}
			d, err := New(bus, AddrLow, tt.res)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.Sense(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Quantity != "illuminance" || got[0].Unit != "lx" || math.Abs(got[0].Value-tt.want) > 0.01 {
				t.Fatalf("Sense = %+v, want %v lx", got, tt.want)
			}
			if err := d.Halt(); err != nil {
				t.Fatal(err)
			}
			if err := d.Halt(); err != nil { // twice: nothing more sent
				t.Fatal(err)
			}
			if err := bus.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDev_errors(t *testing.T) {
	if _, err := New(&i2ctest.Playback{DontPanic: true}, AddrLow, ""); err == nil || !strings.HasPrefix(err.Error(), "bh1750: no answer at playback(0x23)") {
		t.Fatalf("New without a chip = %v", err)
	}
	for _, bad := range []struct {
		addr uint16
		res  string
	}{{0x24, ""}, {AddrHigh, "ultra"}} {
		if _, err := New(&i2ctest.Playback{}, bad.addr, bad.res); err == nil {
			t.Fatalf("New(%#x, %q) accepted", bad.addr, bad.res)
		}
	}
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{powerOn, {Addr: AddrLow, W: []byte{0x23}}}, DontPanic: true}
	d, err := New(bus, AddrLow, "low")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Sense(context.Background()); err == nil || got != nil || !strings.HasPrefix(err.Error(), "bh1750: bh1750{playback(0x23)}: measure: ") {
		t.Fatalf("Sense with the chip gone = %v, %v", got, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sense canceled = %v", err)
	}
	if err := d.Halt(); err == nil {
		t.Fatal("Halt with the chip gone gave no error")
	}
	if _, err := d.Sense(context.Background()); !errors.Is(err, sensors.ErrHalted) {
		t.Fatalf("Sense after Halt = %v", err)
	}
}

func TestDriver(t *testing.T) {
	sensorstest.CheckErrors(t, Driver(), sensorstest.Spec("bh1750", map[string]sensors.Option{"address": {Value: 0x5d, Line: 11}, "resolution": {Value: "hi", Line: 12}, "resolutoin": {Value: "low", Line: 13}}),
		"gw.yaml:11: address: 0x5d is not an address of the bh1750: want one of 0x23, 0x5c",
		`gw.yaml:12: resolution: "hi" is not one of [high high2 low]`,
		`gw.yaml:13: resolutoin: unknown option for driver bh1750 (did you mean "resolution"?)`,
	)
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: AddrHigh, W: []byte{0x01}}}, DontPanic: true}
	s, err := Driver().Open(sensorstest.Spec("bh1750", map[string]sensors.Option{"address": {Value: "0x5c", Line: 11}}), &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": bus}})
	if err != nil || s == nil {
		t.Fatalf("Open = %v, %v", s, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}
