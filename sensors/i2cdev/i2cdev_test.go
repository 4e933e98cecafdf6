package i2cdev

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

// The check value of Sensirion's CRC-8, from the SHT3x, SHT4x, SCD4x and
// SGP30 datasheets ("CRC(0xBEEF) = 0x92").
func TestCRC8(t *testing.T) {
	if got := CRC8([]byte{0xBE, 0xEF}); got != 0x92 {
		t.Fatalf("CRC8(BE EF) = %#x, want 0x92", got)
	}
}

func TestWords(t *testing.T) {
	got, err := Words([]byte{0xBE, 0xEF, 0x92, 0x00, 0x00, 0x81})
	if err != nil || len(got) != 2 || got[0] != 0xBEEF || got[1] != 0 {
		t.Fatalf("Words = %x, %v", got, err)
	}
	_, err = Words([]byte{0xBE, 0xEF, 0x92, 0x00, 0x00, 0x80}) // last CRC off by one
	var ce *CRCError
	if !errors.Is(err, ErrCRC) || !errors.As(err, &ce) || ce.Word != 1 || ce.Computed != 0x81 {
		t.Fatalf("Words with a bad CRC = %v, want a CRCError for word 1", err)
	}
	if _, err := Words([]byte{1, 2}); err == nil {
		t.Fatal("Words accepted a partial word")
	}
}

func TestDev_Command(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x62, W: []byte{0x24, 0x1D, 0xBE, 0xEF, 0x92}}, // command 0x241D with argument 0xBEEF and its CRC
		{Addr: 0x62, R: []byte{0x01, 0xF4, 0x33}},             // one word, 500
	}, DontPanic: true}
	d := Dev{Bus: bus, Addr: 0x62}
	if err := d.Command(context.Background(), 0x241D, 0xBEEF); err != nil {
		t.Fatal(err)
	}
	w, err := d.ReadWords(context.Background(), 1)
	if err != nil || len(w) != 1 || w[0] != 500 {
		t.Fatalf("ReadWords = %v, %v", w, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Write(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write after cancel = %v", err)
	}
}

// fake is a sensor made by the test chip below.
type fake struct{ addr uint16 }

func (fake) Sense(context.Context) ([]sensors.Reading, error) { return nil, nil }
func (fake) Halt() error                                      { return nil }

var testChip = Chip[int]{
	Name:  "chip",
	Addrs: []uint16{0x44, 0x45},
	Options: func(o *sensors.Options, _ sensors.Spec) int {
		return o.Int("gain", 1)
	},
	Quantities: func(gain int) []sensors.Quantity { return []sensors.Quantity{{Name: "g", Unit: "x"}} },
	New: func(bus i2c.Bus, addr uint16, gain int) (sensors.Sensor, error) {
		return fake{addr: addr}, nil
	},
}

func TestDriver(t *testing.T) {
	d := Driver(testChip)
	for _, tt := range []struct {
		name string
		opts map[string]sensors.Option
		want []string
	}{
		{name: "defaults", opts: map[string]sensors.Option{}},
		{name: "other address", opts: map[string]sensors.Option{"address": {Value: 0x45, Line: 11}}},
		{name: "bad address", opts: map[string]sensors.Option{"address": {Value: 0x40, Line: 11}},
			want: []string{"gw.yaml:11: address: 0x40 is not an address of the chip: want one of 0x44, 0x45"}},
		{name: "bad everything", opts: map[string]sensors.Option{
			"bus": {Value: "spi0", Line: 11}, "gain": {Value: "x", Line: 12}, "gian": {Value: 2, Line: 13}},
			want: []string{`gw.yaml:11: bus: "spi0" is not an I²C bus`, "gw.yaml:12: gain: want an integer",
				`gw.yaml:13: gian: unknown option for driver chip (did you mean "gain"?)`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := d.Check(sensorstest.Spec("chip", tt.opts))
			if len(tt.want) == 0 && err != nil {
				t.Fatalf("Check = %v", err)
			}
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Check = %v, want %q", err, w)
				}
			}
		})
	}
	hw := &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": &i2ctest.Playback{}}}
	s, err := d.Open(sensorstest.Spec("chip", map[string]sensors.Option{"bus": {Value: "/dev/i2c-1", Line: 11}, "address": {Value: 0x45, Line: 12}}), hw)
	if err != nil || s.(fake).addr != 0x45 {
		t.Fatalf("Open = %v, %v", s, err)
	}
	if _, err := d.Open(sensorstest.Spec("chip", map[string]sensors.Option{"bus": {Value: "2", Line: 11}}), hw); err == nil || !strings.HasPrefix(err.Error(), "chip: sensorstest: no I2C bus") {
		t.Fatalf("Open on a missing bus = %v", err)
	}
	qs, err := d.Quantities(sensorstest.Spec("chip", nil))
	if err != nil || len(qs) != 1 {
		t.Fatalf("Quantities = %v, %v", qs, err)
	}
	if err := testChip.CheckAddr(0x46); err == nil {
		t.Fatal("CheckAddr accepted 0x46")
	}
}
