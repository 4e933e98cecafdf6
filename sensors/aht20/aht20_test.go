package aht20

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	periph "periph.io/x/devices/v3/aht20"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// The transactions follow the AHT20 datasheet (section 5.4): status (0x71),
// calibration (0xBE 0x08 0x00) when bit 3 of the status is clear, trigger
// (0xAC 0x33 0x00), then seven bytes: status, 20 bits of humidity, 20 bits
// of temperature, CRC-8.
var (
	statusCalibrated = i2ctest.IO{Addr: Addr, W: []byte{0x71}, R: []byte{0x18}} // bit 3: calibrated
	trigger          = i2ctest.IO{Addr: Addr, W: []byte{0xAC, 0x33, 0x00}}
)

// answer is a measurement's seven bytes: status, S_RH (20 bits), S_T (20
// bits) and their CRC.
func answer(status byte, rh, temp uint32) []byte {
	b := []byte{status, byte(rh >> 12), byte(rh >> 4), byte(rh<<4) | byte(temp>>16&0x0F), byte(temp >> 8), byte(temp)}
	return append(b, i2cdev.CRC8(b))
}

// S_RH = 2¹⁹ is 50 %; S_T = 0x60000 = 0.375 × 2²⁰ is 0.375 × 200 − 50 = 25 °C.
func TestDev_Sense(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		statusCalibrated,
		trigger,
		{Addr: Addr, R: answer(0x98, 0x80000, 0x60000)}, // busy (bit 7): still measuring
		{Addr: Addr, R: answer(0x18, 0x80000, 0x60000)}, // done
	}, DontPanic: true}
	d, err := New(bus)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Quantity != "temperature" || math.Abs(got[0].Value-25) > 1e-6 || got[0].Unit != "°C" ||
		got[1].Quantity != "humidity" || math.Abs(got[1].Value-50) > 1e-6 || got[1].Unit != "%" {
		t.Fatalf("Sense = %+v, want 25 °C and 50 %%", got)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNew_calibrates(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: Addr, W: []byte{0x71}, R: []byte{0x10}}, // bit 3 clear: not calibrated
		{Addr: Addr, W: []byte{0xBE, 0x08, 0x00}},      // initialise
	}, DontPanic: true}
	if _, err := New(bus); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDev_Sense_badCRC(t *testing.T) {
	bad := answer(0x18, 0x80000, 0x60000)
	bad[3] ^= 0x01 // one bit flipped on the way
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{statusCalibrated, trigger, {Addr: Addr, R: bad}}, DontPanic: true}
	d, err := New(bus)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Sense(context.Background())
	var dce *periph.DataCorruptionError
	if !errors.As(err, &dce) || got != nil {
		t.Fatalf("Sense = %v, %v; want a DataCorruptionError", got, err)
	}
	if !strings.HasPrefix(err.Error(), "aht20: aht20{playback(0x38)}: sense: ") {
		t.Fatalf("error %q lacks its context", err)
	}
}

func TestDev_errors(t *testing.T) {
	if _, err := New(&i2ctest.Playback{DontPanic: true}); err == nil || !strings.HasPrefix(err.Error(), "aht20: no answer at playback(0x38): ") {
		t.Fatalf("New without a chip = %v", err)
	}
	d, err := New(&i2ctest.Playback{Ops: []i2ctest.IO{statusCalibrated}, DontPanic: true})
	if err != nil {
		t.Fatal(err)
	}
	sensorstest.SenseFails(t, d, "aht20: aht20{playback(0x38)}: sense: ")
}

func TestDriver(t *testing.T) {
	sensorstest.CheckErrors(t, Driver(), sensorstest.Spec("aht20", map[string]sensors.Option{"address": {Value: 0x39, Line: 12}}), "gw.yaml:12: address: 0x39 is not an address of the aht20: want one of 0x38")
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{statusCalibrated}, DontPanic: true}
	s, err := Driver().Open(sensorstest.Spec("aht20", nil), &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": bus}})
	if err != nil || s == nil {
		t.Fatalf("Open = %v, %v", s, err)
	}
}
