package hdc302x

import (
	"context"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

const addr = 0x44

// The datasheet's commands (HDC302x, section 7.5.3): start continuous
// measurement at 1 Hz, low power mode 0 (0x21 0x30); read the latest
// measurement (0xE0 0x00): temperature word, CRC, humidity word, CRC; stop
// (0x30 0x93).
var (
	start = i2ctest.IO{Addr: addr, W: []byte{0x21, 0x30}}
	read  = func(answer []byte) i2ctest.IO { return i2ctest.IO{Addr: addr, W: []byte{0xE0, 0x00}, R: answer} }
	stop  = i2ctest.IO{Addr: addr, W: []byte{0x30, 0x93}}
)

// S = 0x6666 = 0.4 × 65535: T = -45 + 175 × 0.4 = 25 °C, RH = 40 %.
func TestDev_Sense(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{start, read(i2cdev.Encode(0x6666, 0x6666)), stop}, DontPanic: true}
	d, err := New(bus, addr)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sensorstest.CheckReadings(t, got, []sensors.Reading{
		{Quantity: "temperature", Value: 25, Unit: "°C"},
		{Quantity: "humidity", Value: 40, Unit: "%"},
	}, 1e-6)
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDev_errors(t *testing.T) {
	bad := i2cdev.Encode(0x6666, 0x6666)
	bad[4] ^= 0x01 // a humidity bit flipped on the way
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{start, read(bad)}, DontPanic: true}
	d, err := New(bus, addr)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Sense(context.Background()); err == nil || got != nil || !strings.Contains(err.Error(), "crc") {
		t.Fatalf("Sense of a corrupted answer = %v, %v; want a CRC error", got, err)
	}
	sensorstest.SenseFails(t, d, "hdc302x: hdc302x{playback(0x44)}: sense: ")

	if _, err := New(&i2ctest.Playback{DontPanic: true}, addr); err == nil || !strings.HasPrefix(err.Error(), "hdc302x: no answer at playback(0x44): ") {
		t.Fatalf("New without a chip = %v", err)
	}
	if _, err := New(&i2ctest.Playback{}, 0x40); err == nil {
		t.Fatal("New accepted 0x40")
	}
}

func TestDriver(t *testing.T) {
	sensorstest.CheckErrors(t, Driver(), sensorstest.Spec("hdc302x", map[string]sensors.Option{"address": {Value: 0x48, Line: 11}}),
		"gw.yaml:11: address: 0x48 is not an address of the hdc302x: want one of 0x44, 0x45, 0x46, 0x47")
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: 0x47, W: []byte{0x21, 0x30}}}, DontPanic: true}
	s, err := Driver().Open(sensorstest.Spec("hdc302x", map[string]sensors.Option{"address": {Value: 0x47, Line: 11}}), &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": bus}})
	if err != nil || s == nil {
		t.Fatalf("Open = %v, %v", s, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}
