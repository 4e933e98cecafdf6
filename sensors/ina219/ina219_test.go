package ina219

import (
	"context"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

const addr = 0x40

// newOps is New with 0.1 Ω and 3.2 A: current LSB = 3.2 A / 2¹⁵ = 97.66 µA,
// calibration = trunc(0.04096 / (97.66 µA × 0.1 Ω)) = 4194 = 0x1062
// (register 0x05), then configuration 0x1FFF (register 0x00: 32 V, ±320 mV,
// 128 samples, continuous).
var newOps = []i2ctest.IO{
	{Addr: addr, W: []byte{0x05, 0x10, 0x62}},
	{Addr: addr, W: []byte{0x00, 0x1F, 0xFF}},
}

// senseOps is one Sense: shunt (0x01), bus (0x02), current (0x04) and power
// (0x03) registers.
func senseOps(shunt, bus, current, power uint16) []i2ctest.IO {
	reg := func(r byte, v uint16) i2ctest.IO {
		return i2ctest.IO{Addr: addr, W: []byte{r}, R: []byte{byte(v >> 8), byte(v)}}
	}
	return []i2ctest.IO{reg(0x01, shunt), reg(0x02, bus), reg(0x04, current), reg(0x03, power)}
}

// 50 mV across 0.1 Ω is 0.5 A: shunt register 5000 (10 µV LSB), current
// register 5000 × 4194 / 4096 = 5119 (× 97.66 µA = 0.49990 A). The bus at
// 12 V is 3000 × 4 mV, in bits 15..3, with CNVR (bit 1) set: 0x5DC2. Power
// register 5119 × 3000 / 5000 = 3071, × 20 current LSBs = 5.998 W.
func TestDev_Sense(t *testing.T) {
	ops := append(append([]i2ctest.IO(nil), newOps...), senseOps(0x1388, 0x5DC2, 5119, 3071)...)
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	d, err := New(bus, addr, Opts{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []sensors.Reading{
		{Quantity: "voltage", Value: 12, Unit: "V"},
		{Quantity: "current", Value: 0.4999, Unit: "A"},
		{Quantity: "power", Value: 5.998, Unit: "W"},
		{Quantity: "shunt_voltage", Value: 50, Unit: "mV"},
	}
	sensorstest.CheckReadings(t, got, want, 0.001)
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// Bit 0 of the bus voltage register (OVF): the current and power are out of
// range, so the read is an error, not a reading.
func TestDev_Sense_overflow(t *testing.T) {
	ops := append(append([]i2ctest.IO(nil), newOps...), senseOps(0x7D00, 0x5DC3, 0, 0)[:2]...)
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	d, err := New(bus, addr, Opts{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Sense(context.Background()); err == nil || got != nil || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("Sense = %v, %v; want an overflow error", got, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDev_errors(t *testing.T) {
	if _, err := New(&i2ctest.Playback{DontPanic: true}, addr, Opts{}); err == nil || !strings.HasPrefix(err.Error(), "ina219: ina219{playback(0x40)}: init: ") {
		t.Fatalf("New without a chip = %v", err)
	}
	for _, o := range []Opts{{ShuntOhms: 1, MaxCurrent: 1}, {ShuntOhms: 0.001, MaxCurrent: 1}, {ShuntOhms: -1}} {
		if _, err := New(&i2ctest.Playback{}, addr, o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	d, err := New(&i2ctest.Playback{Ops: newOps, DontPanic: true}, addr, Opts{})
	if err != nil {
		t.Fatal(err)
	}
	sensorstest.SenseFails(t, d, "ina219: ina219{playback(0x40)}: sense: ")
}

func TestDriver(t *testing.T) {
	tests := []struct {
		opts map[string]sensors.Option
		want string
	}{
		{map[string]sensors.Option{"shunt_ohms": {Value: 0.01, Line: 11}, "max_current": {Value: 10, Line: 12}}, ""},
		{map[string]sensors.Option{"max_current": {Value: 5, Line: 12}}, "gw.yaml:12: max_current: 5 A through 0.1 Ω is 0.500 V, beyond the ±0.32 V shunt range"},
		{map[string]sensors.Option{"shunt_ohms": {Value: 0.001, Line: 11}}, "gw.yaml:11: shunt_ohms: 3.2 A through 0.001 Ω is 0.00320 V, below"},
		{map[string]sensors.Option{"shunt_ohm": {Value: 0.1, Line: 11}}, `gw.yaml:11: shunt_ohm: unknown option for driver ina219 (did you mean "shunt_ohms"?)`},
		{map[string]sensors.Option{"address": {Value: 0x50, Line: 11}}, "gw.yaml:11: address: 0x50 is not an address of the ina219"},
	}
	for _, tt := range tests {
		err := Driver().Check(sensorstest.Spec("ina219", tt.opts))
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Check(%v) = %v, want %q", tt.opts, err, tt.want)
		}
	}
	bus := &i2ctest.Playback{Ops: newOps, DontPanic: true}
	if s, err := Driver().Open(sensorstest.Spec("ina219", nil), &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": bus}}); err != nil || s == nil {
		t.Fatalf("Open = %v, %v", s, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}
