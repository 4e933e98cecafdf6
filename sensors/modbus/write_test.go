package modbus_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/modbus"
	"github.com/edgegw/edgegw/sensors/modbus/modbustest"
)

// writable are points over modbustest's unit 1, marked writable, with
// scales and offsets to undo; ro is the same register read-only.
var writable = []modbus.Point{
	{Quantity: "temperature", Address: 0, Scale: 0.1, Offset: -40, Unit: "°C", Writable: true},
	{Quantity: "setpoint", Address: 1, Type: modbus.Int16, Scale: 0.1, Unit: "°C", Writable: true},
	{Quantity: "voltage", Address: 6, Type: modbus.Float32, Scale: 2, Offset: 1, Unit: "V", Writable: true},
	{Quantity: "current", Address: 8, Type: modbus.Float32, LowWordFirst: true, Writable: true},
	{Quantity: "balance", Address: 4, Type: modbus.Int32, Scale: 0.01, Writable: true},
	{Quantity: "pump", Table: modbus.Coil, Address: 0, Writable: true},
	{Quantity: "fan", Table: modbus.Coil, Address: 1, Writable: true},
	{Quantity: "mode", Address: 20},
}

// TestDev_SetQuantity_TCP writes holding registers (scale and offset
// undone, int16, float32 in both word orders, int32) and coils to
// pymodbus, checks with pymodbus's own client what the server holds, and
// gets the value read back.
func TestDev_SetQuantity_TCP(t *testing.T) {
	srv := modbustest.StartTCP(t)
	d := newDev(t, modbus.Opts{URL: "tcp://" + srv.Addr, UnitID: 1, Points: writable})
	if got, want := d.Writable(), []string{"temperature", "setpoint", "voltage", "current", "balance", "pump", "fan"}; !slices.Equal(got, want) {
		t.Errorf("Writable() = %v, want %v", got, want)
	}
	tests := []struct {
		quantity string
		value    float64
		table    string
		address  int
		server   []int // what pymodbus holds afterwards
	}{
		{"temperature", 25.5, "holding", 0, []int{655}},            // (25.5+40)/0.1
		{"setpoint", -12.3, "holding", 1, []int{0xFF85}},           // int16 -123
		{"voltage", 101, "holding", 6, []int{0x4248, 0x0000}},      // float32 50 = (101-1)/2
		{"current", -12.25, "holding", 8, []int{0x0000, 0xC144}},   // low word first
		{"balance", -1234.56, "holding", 4, []int{0xFFFE, 0x1DC0}}, // int32 -123456
		{"pump", 0, "coil", 0, []int{0}},                           // was on
		{"fan", 1, "coil", 1, []int{1}},                            // was off
		{"setpoint", 3276.7, "holding", 1, []int{0x7FFF}},          // the top of int16
		{"temperature", -40, "holding", 0, []int{0}},               // the bottom of uint16
		{"setpoint", 21.549999, "holding", 1, []int{215}},          // rounded to the register's resolution
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%v", tt.quantity, tt.value), func(t *testing.T) {
			r, err := d.SetQuantity(t.Context(), tt.quantity, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if got := srv.Read(1, tt.table, tt.address, len(tt.server)); !slices.Equal(got, tt.server) {
				t.Errorf("server holds %#x, want %#x", got, tt.server)
			}
			if r.Quantity != tt.quantity || math.Abs(r.Value-tt.value) > 0.051 {
				t.Errorf("read back %+v, want %s = %v", r, tt.quantity, tt.value)
			}
		})
	}
	if st := d.Stats(); st.Writes != uint64(len(tests)) || st.Connects != 1 {
		t.Errorf("Stats = %+v, want %d writes on 1 connection", st, len(tests))
	}
}

// TestDev_SetQuantity_refused: values that do not fit the point's type
// once scale and offset are undone, and read-only or unknown quantities,
// are refused and nothing is sent.
func TestDev_SetQuantity_refused(t *testing.T) {
	srv := modbustest.StartTCP(t)
	d := newDev(t, modbus.Opts{URL: "tcp://" + srv.Addr, UnitID: 1, Points: writable})
	tests := []struct {
		quantity string
		value    float64
		want     error
		msg      string
	}{
		{"setpoint", 3276.8, modbus.ErrOutOfRange, "setpoint = 3276.8: -3276.8…3276.7 fits a int16 with scale 0.1 and offset 0"},
		{"setpoint", -3276.9, modbus.ErrOutOfRange, ""},
		{"temperature", -40.1, modbus.ErrOutOfRange, "-40…6513.5"},
		{"voltage", 1e39, modbus.ErrOutOfRange, ""},
		{"pump", 2, modbus.ErrOutOfRange, "0…1 fits a bool"},
		{"pump", 0.5, modbus.ErrOutOfRange, ""},
		{"mode", 1, modbus.ErrNotWritable, `"mode"`},
		{"nothing", 1, modbus.ErrNotWritable, ""},
	}
	for _, tt := range tests {
		_, err := d.SetQuantity(t.Context(), tt.quantity, tt.value)
		if !errors.Is(err, tt.want) || !strings.Contains(fmt.Sprint(err), tt.msg) {
			t.Errorf("%s = %v: err %v, want %v with %q", tt.quantity, tt.value, err, tt.want, tt.msg)
		}
	}
	if got := srv.Read(1, "holding", 0, 2); !slices.Equal(got, []int{215, 0xFFF6}) {
		t.Errorf("server holds %#x, want the registers untouched", got)
	}
	if got := srv.Read(1, "coil", 0, 1); !slices.Equal(got, []int{1}) {
		t.Errorf("coil 0 = %v, want untouched", got)
	}
	if st := d.Stats(); st.Writes != 0 || st.Connects != 0 {
		t.Errorf("Stats = %+v, want nothing sent", st)
	}
}

// TestDriver_Check_writable: writable is for holding registers and coils.
func TestDriver_Check_writable(t *testing.T) {
	err := modbus.Driver().Check(spec(map[string]sensors.Option{
		"address": {Value: "tcp://meter.local", Line: 21},
		"points": points(
			map[string]any{"quantity": "a", "address": 0, "writable": true},
			map[string]any{"quantity": "b", "table": "coil", "address": 0, "writable": true},
			map[string]any{"quantity": "c", "table": "input", "address": 0, "writable": true},
			map[string]any{"quantity": "d", "table": "discrete", "address": 0, "writable": true},
			map[string]any{"quantity": "e", "address": 1, "writable": "yes please"},
		),
	}))
	for _, want := range []string{
		"g.yaml:52: sensors[0].points[2].writable: input points are read-only: only holding registers and coils can be written",
		"g.yaml:62: sensors[0].points[3].writable: discrete points are read-only",
		"g.yaml:72: sensors[0].points[4].writable:",
	} {
		if !strings.Contains(fmt.Sprint(err), want) {
			t.Errorf("Check: %v\nwant %q", err, want)
		}
	}
	if n := strings.Count(fmt.Sprint(err), "\n") + 1; err == nil || n != 3 {
		t.Errorf("Check: %d errors, want 3: %v", n, err)
	}
	qs, err := modbus.Driver().Quantities(spec(map[string]sensors.Option{
		"address": {Value: "tcp://meter.local", Line: 21},
		"points": points(
			map[string]any{"quantity": "sp", "address": 0, "type": "int16", "scale": 0.5, "offset": 10, "writable": true},
			map[string]any{"quantity": "relay", "table": "coil", "address": 0, "writable": true},
		),
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := []sensors.Quantity{
		{Name: "sp", Writable: true, Min: -32768*0.5 + 10, Max: 32767*0.5 + 10, Step: 0.5},
		{Name: "relay", Binary: true, Writable: true},
	}
	if !slices.Equal(qs, want) {
		t.Errorf("Quantities = %+v, want %+v", qs, want)
	}
}
