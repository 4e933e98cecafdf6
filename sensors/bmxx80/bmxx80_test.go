package bmxx80

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// The transactions below are written from the BMP280 datasheet (BST-BMP280-
// DS001, sections 3.11 and 4) and the BME280 datasheet (BST-BME280-DS002,
// sections 4.2 and 5.4). The calibration words are the datasheet's worked
// example (section 3.11.3 of the BMP280 datasheet): with adc_T = 519888 and
// adc_P = 415148 it gives T = 25.08 °C and p = 100653.27 Pa. The humidity
// trimming values are made up but typical.
const addr = 0x76

// calibTP is what registers 0x88..0xA1 hold: dig_T1..dig_P9 as little-endian
// words, one reserved byte, then dig_H1 (BME280 only; BMP280 reads it too).
var calibTP = []byte{
	0x70, 0x6B, // 0x88 dig_T1 = 27504
	0x43, 0x67, // 0x8A dig_T2 = 26435
	0x18, 0xFC, // 0x8C dig_T3 = -1000
	0x7D, 0x8E, // 0x8E dig_P1 = 36477
	0x43, 0xD6, // 0x90 dig_P2 = -10685
	0xD0, 0x0B, // 0x92 dig_P3 = 3024
	0x27, 0x0B, // 0x94 dig_P4 = 2855
	0x8C, 0x00, // 0x96 dig_P5 = 140
	0xF9, 0xFF, // 0x98 dig_P6 = -7
	0x8C, 0x3C, // 0x9A dig_P7 = 15500
	0xF8, 0xC6, // 0x9C dig_P8 = -14600
	0x70, 0x17, // 0x9E dig_P9 = 6000
	0x00, // 0xA0 reserved
	0x4B, // 0xA1 dig_H1 = 75
}

// calibH is what BME280 registers 0xE1..0xE7 hold.
var calibH = []byte{
	0x72, 0x01, // 0xE1 dig_H2 = 370
	0x00, // 0xE3 dig_H3 = 0
	0x13, // 0xE4 dig_H4[11:4] = 0x13: dig_H4 = 0x139 = 313
	0x29, // 0xE5 [3:0] dig_H4[3:0] = 9, [7:4] dig_H5[3:0] = 2
	0x03, // 0xE6 dig_H5[11:4] = 0x03: dig_H5 = 0x032 = 50
	0x1E, // 0xE7 dig_H6 = 30
}

// Control values periph writes with DefaultOpts (4x oversampling, no filter):
// ctrl_meas (0xF4) = osrs_t 011 | osrs_p 011 | mode, config (0xF5) =
// t_sb 101 (1 s) | filter 000, ctrl_hum (0xF2) = osrs_h 011.
const (
	ctrlMeasSleep  = 0x6C // 011 011 00
	ctrlMeasForced = 0x6D // 011 011 01
	config1s       = 0xA0 // 101 000 0 0
	ctrlHum4x      = 0x03
)

// idOps is what New does first on a chip whose id register reads id, up to
// and including the chip id check periph repeats.
func idOps(id byte) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0xD0}, R: []byte{id}}, // our chip id check
		{Addr: addr, W: []byte{0xD0}, R: []byte{id}}, // periph's chip detection
	}
}

// initBMP280 is New on a BMP280: chip id, calibration, configuration.
func initBMP280() []i2ctest.IO {
	return append(idOps(0x58),
		i2ctest.IO{Addr: addr, W: []byte{0x88}, R: calibTP}, // calibration 0x88..0xA1
		i2ctest.IO{Addr: addr, W: []byte{ // configuration, sleeping so config is taken
			0xF4, ctrlMeasSleep, // ctrl_meas: sleep first
			0xF5, config1s, // config: no filter
			0xF4, ctrlMeasSleep, // ctrl_meas again, last as the datasheet asks
		}},
	)
}

// initBME280 is New on a BME280: as the BMP280 plus humidity calibration and
// ctrl_hum.
func initBME280() []i2ctest.IO {
	return append(idOps(0x60),
		i2ctest.IO{Addr: addr, W: []byte{0x88}, R: calibTP}, // calibration 0x88..0xA1
		i2ctest.IO{Addr: addr, W: []byte{0xE1}, R: calibH},  // humidity calibration 0xE1..0xE7
		i2ctest.IO{Addr: addr, W: []byte{
			0xF4, ctrlMeasSleep, // ctrl_meas: sleep first
			0xF2, ctrlHum4x, // ctrl_hum: only applied by the next ctrl_meas write
			0xF5, config1s, // config: no filter
			0xF4, ctrlMeasSleep, // ctrl_meas again
		}},
	)
}

// Raw measurement registers 0xF7..0xFE: press_msb, press_lsb, press_xlsb[7:4],
// temp_msb, temp_lsb, temp_xlsb[7:4], hum_msb, hum_lsb.
var (
	measTP = []byte{
		0x65, 0x5A, 0xC0, // adc_P = 0x655AC = 415148
		0x7E, 0xED, 0x00, // adc_T = 0x7EED0 = 519888
	}
	measH = []byte{0x70, 0x00} // adc_H = 0x7000 = 28672
)

// senseOps is one Sense: start a forced measurement, poll status until the
// measuring bit (3) clears, read the data registers in one burst.
func senseOps(data []byte) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0xF4, ctrlMeasForced}},  // ctrl_meas: forced mode
		{Addr: addr, W: []byte{0xF3}, R: []byte{0x08}}, // status: measuring
		{Addr: addr, W: []byte{0xF3}, R: []byte{0x00}}, // status: done
		{Addr: addr, W: []byte{0xF7}, R: data},         // data burst from 0xF7
	}
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDev_Sense_bmp280(t *testing.T) {
	bus := &i2ctest.Playback{Ops: append(initBMP280(), senseOps(measTP)...), DontPanic: true}
	d, err := New(bus, addr, BMP280)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The datasheet's floating-point results are 25.08 °C and 100653.27 Pa;
	// periph's fixed-point path matches within its resolution.
	want := []sensors.Reading{
		{Quantity: "temperature", Value: 25.08, Unit: "°C"},
		{Quantity: "pressure", Value: 1006.5327, Unit: "hPa"},
	}
	assertReadings(t, got, want, []float64{0.005, 0.01})
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil { // every transaction above was used
		t.Fatal(err)
	}
}

func TestDev_Sense_bme280(t *testing.T) {
	bus := &i2ctest.Playback{Ops: append(initBME280(), senseOps(concat(measTP, measH))...), DontPanic: true}
	d, err := New(bus, addr, BME280)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []sensors.Reading{
		{Quantity: "temperature", Value: 25.08, Unit: "°C"},
		{Quantity: "pressure", Value: 1006.5327, Unit: "hPa"},
		{Quantity: "humidity", Value: refHumidity(0x7000), Unit: "%"},
	}
	assertReadings(t, got, want, []float64{0.005, 0.01, 0.05})
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// refHumidity is the BME280 datasheet's double-precision humidity formula
// (section 8.1) for the calibration above at t_fine of the example
// temperature, an independent check of periph's fixed-point result.
func refHumidity(adcH float64) float64 {
	const (
		tFine                  = 128422.287 // from the datasheet example, T = 25.08 °C
		h1, h2, h3, h4, h5, h6 = 75.0, 370.0, 0.0, 313.0, 50.0, 30.0
	)
	h := tFine - 76800.0
	h = (adcH - (h4*64.0 + h5/16384.0*h)) * (h2 / 65536.0 * (1.0 + h6/67108864.0*h*(1.0+h3/67108864.0*h)))
	h *= 1.0 - h1*h/524288.0
	return math.Max(0, math.Min(100, h))
}

func assertReadings(t *testing.T, got, want []sensors.Reading, tolerance []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d readings %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Quantity != w.Quantity || g.Unit != w.Unit || math.Abs(g.Value-w.Value) > tolerance[i] || !g.Time.IsZero() {
			t.Errorf("reading %d = %+v, want %+v ± %v", i, g, w, tolerance[i])
		}
	}
}

func TestNew_wrongChip(t *testing.T) {
	tests := []struct {
		name string
		chip Chip
		id   byte
		want string
	}{
		{"bmp280 driver on a BME280", BMP280, 0x60, "bmp280 driver found a BME280 (chip id 0x60) at 0x76 on playback; use driver bme280"},
		{"bme280 driver on a BMP280", BME280, 0x58, "bme280 driver found a BMP280 (chip id 0x58) at 0x76 on playback; use driver bmp280"},
		{"BMP180", BME280, 0x55, "found a BMP180 (unsupported) (chip id 0x55)"},
		{"nothing there", BMP280, 0xFF, "found an unknown chip (chip id 0xff)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{
				Ops:       []i2ctest.IO{{Addr: addr, W: []byte{0xD0}, R: []byte{tt.id}}}, // chip id, and nothing else
				DontPanic: true,
			}
			d, err := New(bus, addr, tt.chip)
			if d != nil || !errors.Is(err, ErrWrongChip) {
				t.Fatalf("New = %v, %v; want ErrWrongChip", d, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q lacks %q", err, tt.want)
			}
			if err := bus.Close(); err != nil { // nothing was written to the wrong chip
				t.Fatal(err)
			}
		})
	}
}

func TestNew_busError(t *testing.T) {
	tests := []struct {
		name string
		ops  []i2ctest.IO
		want string
	}{
		{"no device", nil, "bmxx80: bme280: no answer at 0x76 on playback: "},
		{"calibration read fails", idOps(0x60), "bmxx80: bme280 at 0x76 on playback: init: "},
		{"humidity calibration read fails", initBME280()[:3], "init: "},
		{"configuration write fails", initBME280()[:4], "init: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: tt.ops, DontPanic: true} // runs out of answers: Tx errors
			d, err := New(bus, addr, BME280)
			if d != nil || err == nil || !strings.HasPrefix(err.Error(), "bmxx80: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, %v; want an error containing %q", d, err, tt.want)
			}
			if err := bus.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNew_address(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true}
	for _, a := range []uint16{0x00, 0x75, 0x78} {
		if d, err := New(bus, a, BME280); d != nil || !errors.Is(err, ErrAddress) {
			t.Fatalf("New(%#x) = %v, %v; want ErrAddress", a, d, err)
		}
	}
	if d, err := New(bus, addr, Chip(9)); d != nil || err == nil {
		t.Fatalf("New(Chip(9)) = %v, %v; want an error", d, err)
	}
	if bus.Count != 0 {
		t.Fatalf("bad arguments used the bus %d times", bus.Count)
	}
}

func TestDev_Sense_busError(t *testing.T) {
	for n := 0; n < len(senseOps(measTP)); n++ { // the bus fails at each transaction in turn
		bus := &i2ctest.Playback{Ops: append(initBMP280(), senseOps(measTP)[:n]...), DontPanic: true}
		d, err := New(bus, addr, BMP280)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := d.Sense(context.Background()); err == nil || got != nil {
			t.Fatalf("failing at sense transaction %d: Sense = %v, %v; want an error", n, got, err)
		}
		if err := bus.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDev_Sense_implausible(t *testing.T) {
	for _, data := range [][]byte{
		{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, // no pull-ups: the bus reads all ones
		{0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
	} {
		bus := &i2ctest.Playback{Ops: append(initBMP280(), senseOps(data)...), DontPanic: true}
		d, err := New(bus, addr, BMP280)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := d.Sense(context.Background()); !errors.Is(err, ErrImplausible) || got != nil {
			t.Fatalf("Sense(% x) = %v, %v; want ErrImplausible", data, got, err)
		}
	}
}

// stuckBus answers New like a BMP280, then reports "measuring" forever and
// cancels the context on the third status read.
type stuckBus struct {
	i2ctest.Playback
	cancel      context.CancelFunc
	statusReads int
}

func (b *stuckBus) Tx(a uint16, w, r []byte) error {
	if len(w) == 1 && w[0] == 0xF3 {
		if b.statusReads++; b.statusReads == 3 {
			b.cancel()
		}
		if b.statusReads > 100 { // cancellation ignored: fail rather than spin forever
			return errors.New("stuckBus: still polled after cancellation")
		}
		r[0] = 0x08 // measuring
		return nil
	}
	return b.Playback.Tx(a, w, r)
}

func TestDev_Sense_canceledWhileBusy(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus := &stuckBus{cancel: cancel, Playback: i2ctest.Playback{
		Ops:       append(initBMP280(), i2ctest.IO{Addr: addr, W: []byte{0xF4, ctrlMeasForced}}), // forced mode
		DontPanic: true,
	}}
	d, err := New(bus, addr, BMP280)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sense = %v, want context.Canceled", err)
	}
	if bus.statusReads != 3 {
		t.Fatalf("%d status reads, want 3 (none after cancellation)", bus.statusReads)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDev_Sense_canceledBefore(t *testing.T) {
	bus := &i2ctest.Playback{Ops: initBMP280(), DontPanic: true}
	d, err := New(bus, addr, BMP280)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sense = %v, want context.Canceled", err)
	}
	if err := bus.Close(); err != nil { // no transaction after New's
		t.Fatal(err)
	}
}

func TestDev_Halt_twice(t *testing.T) {
	bus := &i2ctest.Playback{Ops: initBME280(), DontPanic: true}
	d, err := New(bus, addr, BME280)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := d.Halt(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Sense(context.Background()); !errors.Is(err, ErrHalted) {
		t.Fatalf("Sense after Halt = %v, want ErrHalted", err)
	}
	if err := bus.Close(); err != nil { // Halt sent nothing: the chip sleeps already
		t.Fatal(err)
	}
}

func TestDev_String(t *testing.T) {
	bus := &i2ctest.Playback{Ops: initBMP280(), DontPanic: true}
	d, err := New(bus, addr, BMP280)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.String(); got != "bmp280{playback(0x76)}" {
		t.Fatalf("String = %q", got)
	}
}

// physic's units are what periph returns; check the conversions at the edge
// on round numbers.
func TestDev_readings_units(t *testing.T) {
	d := &Dev{chip: BME280, bus: &i2cdev.CtxBus{Bus: &i2ctest.Playback{}}}
	got, err := d.readings(physic.Env{
		Temperature: physic.ZeroCelsius + 21500*physic.MilliCelsius,
		Pressure:    101325 * physic.Pascal,
		Humidity:    455 * physic.PercentRH / 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	assertReadings(t, got, []sensors.Reading{
		{Quantity: "temperature", Value: 21.5, Unit: "°C"},
		{Quantity: "pressure", Value: 1013.25, Unit: "hPa"},
		{Quantity: "humidity", Value: 45.5, Unit: "%"},
	}, []float64{1e-9, 1e-9, 1e-9})
}
