package bmxx80

import (
	"context"
	"errors"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// spec builds a config entry at line 10 of gw.yaml whose options stand on
// the lines given with them.
func spec(driver string, opts map[string]sensors.Option) sensors.Spec {
	return sensors.Spec{Name: "kitchen", Driver: driver, File: "gw.yaml", Line: 10,
		Options: sensors.Options{File: "gw.yaml", Values: opts}}
}

func TestDriver_Check(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]sensors.Option
		want string // substring of the error; "" means valid
	}{
		{name: "defaults", opts: map[string]sensors.Option{}},
		{name: "both keys", opts: map[string]sensors.Option{"bus": {Value: "/dev/i2c-0", Line: 11}, "address": {Value: 0x77, Line: 12}}},
		{name: "address as a string", opts: map[string]sensors.Option{"address": {Value: "0x77", Line: 12}}},
		{name: "bus as a number", opts: map[string]sensors.Option{"bus": {Value: 1, Line: 11}}},
		{name: "other address", opts: map[string]sensors.Option{"address": {Value: 0x40, Line: 12}},
			want: "gw.yaml:12: address: 0x40 is not 0x76 or 0x77"},
		{name: "address not a number", opts: map[string]sensors.Option{"address": {Value: "left", Line: 12}},
			want: "gw.yaml:12: address: want an integer"},
		{name: "bad bus", opts: map[string]sensors.Option{"bus": {Value: "/dev/spidev0.0", Line: 11}},
			want: `gw.yaml:11: bus: "/dev/spidev0.0" is not an I²C bus`},
		{name: "unknown key", opts: map[string]sensors.Option{"oversampling": {Value: 16, Line: 13}},
			want: "gw.yaml:13: oversampling: unknown option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chip := range []Chip{BME280, BMP280} {
				err := Driver(chip).Check(spec(chip.String(), tt.opts))
				if tt.want == "" && err != nil {
					t.Fatalf("%s: Check = %v, want nil", chip, err)
				}
				if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
					t.Fatalf("%s: Check = %v, want %q", chip, err, tt.want)
				}
			}
		})
	}
}

func TestDriver_Open(t *testing.T) {
	bus := &i2ctest.Playback{Ops: append(initBME280(), senseOps(concat(measTP, measH))...), DontPanic: true}
	hw := &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": bus}} // "/dev/i2c-1" must find it
	s, err := Driver(BME280).Open(spec("bme280", map[string]sensors.Option{
		"bus": {Value: "/dev/i2c-1", Line: 11}, "address": {Value: 0x76, Line: 12},
	}), hw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Quantity != "humidity" {
		t.Fatalf("Sense = %+v, want temperature, pressure, humidity", got)
	}
	if err := s.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDriver_Open_errors(t *testing.T) {
	_, err := Driver(BME280).Open(spec("bme280", nil), &sensorstest.Hardware{})
	if err == nil || !strings.HasPrefix(err.Error(), "bmxx80: bme280: sensorstest: no I2C bus \"1\"") {
		t.Fatalf("Open with a missing bus = %v, want the hardware's error", err)
	}
	bus := &i2ctest.Playback{Ops: idOps(0x58)[:1], DontPanic: true} // a BMP280 answers
	hw := &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": bus}}
	if _, err := Driver(BME280).Open(spec("bme280", nil), hw); !errors.Is(err, ErrWrongChip) {
		t.Fatalf("Open on the wrong chip = %v, want ErrWrongChip", err)
	}
	var oe *sensors.OptionError
	bad := map[string]sensors.Option{"address": {Value: 0x10, Line: 12}}
	if _, err := Driver(BME280).Open(spec("bme280", bad), hw); !errors.As(err, &oe) || bus.Count != 1 {
		t.Fatalf("Open with a bad address = %v after %d transactions; want an option error before any", err, bus.Count)
	}
}
