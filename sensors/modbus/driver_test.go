package modbus_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/modbus"
)

func spec(opts map[string]sensors.Option) sensors.Spec {
	return sensors.Spec{Name: "meter", Driver: "modbus", File: "g.yaml", Line: 20, Interval: 10 * time.Second,
		Timeout: 5 * time.Second, Options: sensors.Options{File: "g.yaml", Path: "sensors[0]", Driver: "modbus", Values: opts}}
}

// points is a points option whose elements and keys stand on lines 31…
func points(elems ...map[string]any) sensors.Option {
	list := make([]any, len(elems))
	lines := map[string]int{}
	for i, e := range elems {
		list[i] = e
		sub := "[" + string(rune('0'+i)) + "]"
		lines[sub] = 31 + 10*i
		for k := range e {
			lines[sub+"."+k] = 32 + 10*i
		}
	}
	return sensors.Option{Value: list, Line: 30, Lines: lines}
}

func TestDriver_Check(t *testing.T) {
	valid := []map[string]sensors.Option{{
		"address":         {Value: "tcp://meter.local", Line: 21},
		"unit_id":         {Value: 255, Line: 22},
		"request_timeout": {Value: "500ms", Line: 23},
		"max_gap":         {Value: 10, Line: 24},
		"points": points(
			map[string]any{"quantity": "voltage", "table": "input", "address": 0, "type": "float32", "unit": "V"},
			map[string]any{"quantity": "energy", "address": 0x156, "type": "uint32", "word_order": "low_first",
				"byte_order": "little", "scale": 0.01, "offset": -1, "unit": "kWh"},
			map[string]any{"quantity": "relay", "table": "coil", "address": 65535, "type": "bool"},
			map[string]any{"quantity": "door", "table": "discrete", "address": 3},
		),
	}, {
		"port": {Value: "/dev/ttyUSB0", Line: 21}, "baud": {Value: 19200, Line: 22},
		"parity": {Value: "even", Line: 23}, "stop_bits": {Value: 1, Line: 24},
		"points": points(map[string]any{"quantity": "t", "address": 65534, "type": "int16"}),
	}, {
		"address": {Value: "rtu:///dev/ttyAMA0", Line: 21}, "unit_id": {Value: 247, Line: 22},
		"points": points(map[string]any{"quantity": "t", "address": 0}),
	}}
	for i, v := range valid {
		if err := modbus.Driver().Check(spec(v)); err != nil {
			t.Errorf("valid %d: %v", i, err)
		}
	}
	tests := []struct {
		name string
		opts map[string]sensors.Option
		want []string
	}{
		{"nothing", map[string]sensors.Option{}, []string{
			"g.yaml:20: sensors[0].address: missing: give address (tcp://host:502) or port",
			"g.yaml:20: sensors[0].points: missing: list the values to read",
		}},
		{"bad connection", map[string]sensors.Option{
			"address":         {Value: "udp://x:502", Line: 21},
			"unit_id":         {Value: 256, Line: 22},
			"baud":            {Value: 9600, Line: 23},
			"request_timeout": {Value: "10s", Line: 24},
			"max_gap":         {Value: 125, Line: 25},
			"points":          {Value: "voltage", Line: 26},
			"unitid":          {Value: 1, Line: 27},
		}, []string{
			`g.yaml:21: sensors[0].address: bad url "udp://x:502": want tcp://host:502, rtu:///dev/ttyUSB0 or rtuovertcp://host:port`,
			"g.yaml:22: sensors[0].unit_id: 256 is outside 0…255",
			"g.yaml:23: sensors[0].baud: only a serial line (port: /dev/…) takes baud",
			"g.yaml:24: sensors[0].request_timeout: 10s must be more than 0 and at most the sensor's timeout (5s)",
			"g.yaml:25: sensors[0].max_gap: 125 is outside 0…124",
			"g.yaml:26: sensors[0].points: want a list of points",
			`g.yaml:27: sensors[0].unitid: unknown option for driver modbus (did you mean "unit_id"?)`,
		}},
		{"bad serial line", map[string]sensors.Option{
			"port":      {Value: "ttyUSB0", Line: 21},
			"unit_id":   {Value: 0, Line: 22},
			"parity":    {Value: "mark", Line: 23},
			"stop_bits": {Value: 1.5, Line: 24},
			"points":    points(map[string]any{"quantity": "t", "address": 0}),
		}, []string{
			`g.yaml:21: sensors[0].port: want the serial device's absolute path, like /dev/ttyUSB0, got "ttyUSB0"`,
			"g.yaml:22: sensors[0].unit_id: 0 is outside 1…247",
			`g.yaml:23: sensors[0].parity: "mark" is not one of [none even odd]`,
			`g.yaml:24: sensors[0].stop_bits: "1.5" is not one of [1 2]`,
		}},
		{"address and port", map[string]sensors.Option{
			"address": {Value: "tcp://x:502", Line: 21}, "port": {Value: "/dev/ttyUSB0", Line: 22},
			"points": points(map[string]any{"quantity": "t", "address": 0}),
		}, []string{"g.yaml:22: sensors[0].port: give either address (tcp://host:502) or port (a serial device), not both"}},
		{"bad points", map[string]sensors.Option{
			"address": {Value: "tcp://x:502", Line: 21},
			"points": points(
				map[string]any{"quantity": "voltage", "table": "register", "address": -1, "type": "float"},
				map[string]any{"quantity": "voltage", "address": 65535, "type": "uint32", "scale": 0},
				map[string]any{"quantity": "relay", "table": "coil", "address": 1, "type": "uint16", "word_order": "low_first"},
				map[string]any{"tabel": "input"},
				map[string]any{"quantity": "a/b", "address": 0, "word_order": "cdab", "byte_order": "middle"},
			),
		}, []string{
			`g.yaml:32: sensors[0].points[0].table: "register" is not one of [holding input coil discrete]`,
			"g.yaml:32: sensors[0].points[0].address: -1 is outside 0…65535 for a uint16",
			`g.yaml:32: sensors[0].points[0].type: "float" is not one of [uint16 int16 uint32 int32 float32 uint64 int64 float64]`,
			`g.yaml:42: sensors[0].points[1].quantity: "voltage" is also the quantity of points[0]`,
			"g.yaml:42: sensors[0].points[1].address: 65535 is outside 0…65534 for a uint32",
			"g.yaml:42: sensors[0].points[1].scale: must not be 0",
			`g.yaml:52: sensors[0].points[2].type: a coil is a bit: its type is bool, not "uint16"`,
			"g.yaml:52: sensors[0].points[2].word_order: a coil has no registers",
			"g.yaml:61: sensors[0].points[3].quantity: missing required option",
			"g.yaml:61: sensors[0].points[3].address: missing required option",
			`g.yaml:62: sensors[0].points[3].tabel: unknown option for driver modbus (did you mean "table"?)`,
			`g.yaml:72: sensors[0].points[4].quantity: sensors: bad quantity name: "a/b"`,
			`g.yaml:72: sensors[0].points[4].word_order: "cdab" is not one of [high_first low_first]`,
			`g.yaml:72: sensors[0].points[4].byte_order: "middle" is not one of [big little]`,
		}},
		{"not a mapping", map[string]sensors.Option{
			"address": {Value: "tcp://x:502", Line: 21},
			"points":  {Value: []any{"voltage"}, Line: 30, Lines: map[string]int{"[0]": 31}},
		}, []string{"g.yaml:31: sensors[0].points[0]: want a mapping like {quantity: voltage, address: 0}, got voltage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := modbus.Driver().Check(spec(tt.opts))
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Check = %v\nwant %q", err, w)
				}
			}
		})
	}
}

func TestDriver_Quantities(t *testing.T) {
	qs, err := modbus.Driver().Quantities(spec(map[string]sensors.Option{
		"address": {Value: "tcp://x:502"},
		"points": points(
			map[string]any{"quantity": "voltage", "table": "input", "address": 0, "type": "float32", "unit": "V"},
			map[string]any{"quantity": "relay", "table": "coil", "address": 0},
		),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 2 || qs[0] != (sensors.Quantity{Name: "voltage", Unit: "V"}) || qs[1] != (sensors.Quantity{Name: "relay", Binary: true}) {
		t.Errorf("Quantities = %v", qs)
	}
}
