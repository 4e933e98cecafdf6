package i2creg

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors"
)

// Every format, each read as one transaction: write the register address
// (0x10), read the bytes. Negative values check two's complement and sign
// extension of short lengths.
func TestDev_Sense_formats(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		length int
		scale  float64
		offset float64
		r      []byte // what the device answers
		want   float64
	}{
		{name: "u8", format: U8, r: []byte{0xC8}, want: 200},
		{name: "s8 negative", format: S8, r: []byte{0xC8}, want: -56},
		{name: "s8 positive", format: S8, r: []byte{0x7F}, want: 127},
		{name: "u16be", format: U16BE, r: []byte{0x12, 0x34}, want: 0x1234},
		{name: "s16be negative", format: S16BE, r: []byte{0xFF, 0x38}, want: -200},
		{name: "s16be min", format: S16BE, r: []byte{0x80, 0x00}, want: -32768},
		{name: "u16le", format: U16LE, r: []byte{0x34, 0x12}, want: 0x1234},
		{name: "s16le negative", format: S16LE, r: []byte{0x38, 0xFF}, want: -200},
		{name: "u32be", format: U32BE, r: []byte{0xDE, 0xAD, 0xBE, 0xEF}, want: 0xDEADBEEF},
		{name: "s32be negative", format: S32BE, r: []byte{0xFF, 0xFF, 0xFE, 0x0C}, want: -500},
		{name: "s32be min", format: S32BE, r: []byte{0x80, 0, 0, 0}, want: math.MinInt32},
		{name: "u32le", format: U32LE, r: []byte{0xEF, 0xBE, 0xAD, 0xDE}, want: 0xDEADBEEF},
		{name: "s32le negative", format: S32LE, r: []byte{0x0C, 0xFE, 0xFF, 0xFF}, want: -500},
		{name: "f32be", format: F32BE, r: []byte{0xC1, 0xAC, 0x00, 0x00}, want: -21.5}, // IEEE 754 0xC1AC0000
		{name: "f32le", format: F32LE, r: []byte{0x00, 0x00, 0xAC, 0xC1}, want: -21.5},
		{name: "s32be 24-bit negative", format: S32BE, length: 3, r: []byte{0xFF, 0xFF, 0x38}, want: -200},
		{name: "u32be 24-bit", format: U32BE, length: 3, r: []byte{0xFF, 0xFF, 0x38}, want: 0xFFFF38},
		{name: "u32le 24-bit", format: U32LE, length: 3, r: []byte{0x01, 0x02, 0x03}, want: 0x030201},
		{name: "s32le 24-bit negative", format: S32LE, length: 3, r: []byte{0x38, 0xFF, 0xFF}, want: -200},
		{name: "s16be 1 byte", format: S16BE, length: 1, r: []byte{0x80}, want: -128},
		{name: "scale and offset", format: S16BE, scale: 0.1, offset: 1, r: []byte{0xFF, 0x38}, want: -19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{
				Ops: []i2ctest.IO{
					{Addr: 0x48, W: []byte{0x10}, R: tt.r}, // register address, then the value
				},
				DontPanic: true,
			}
			d, err := New(bus, Config{Addr: 0x48, Register: 0x10, Format: tt.format, Length: tt.length,
				Scale: tt.scale, Offset: tt.offset, Unit: "u", Quantity: "q"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.Sense(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Quantity != "q" || got[0].Unit != "u" || math.Abs(got[0].Value-tt.want) > 1e-9 {
				t.Fatalf("Sense = %+v, want one reading q=%v u", got, tt.want)
			}
			if err := bus.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDev_Sense_defaults(t *testing.T) {
	bus := &i2ctest.Playback{
		Ops:       []i2ctest.IO{{Addr: 0x20, W: []byte{0x00}, R: []byte{0x07}}}, // register 0 holds 7
		DontPanic: true,
	}
	d, err := New(bus, Config{Addr: 0x20})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := sensors.Reading{Quantity: "value", Value: 7}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("Sense = %+v, want %+v", got, want)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDev_Sense_busError(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true} // no device answers
	d, err := New(bus, Config{Addr: 0x48, Register: 1, Format: U16BE})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Sense(context.Background())
	if err == nil || got != nil {
		t.Fatalf("Sense = %v, %v; want an error", got, err)
	}
	if !strings.HasPrefix(err.Error(), "i2creg: read register 0x1 at 0x48: ") {
		t.Fatalf("error %q lacks context", err)
	}
}

func TestDev_Sense_notFinite(t *testing.T) {
	for _, r := range [][]byte{{0x7F, 0xC0, 0, 0}, {0x7F, 0x80, 0, 0}, {0xFF, 0x80, 0, 0}} { // NaN, +Inf, -Inf
		bus := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: 0x48, W: []byte{0}, R: r}}, DontPanic: true}
		d, err := New(bus, Config{Addr: 0x48, Format: F32BE})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Sense(context.Background()); !errors.Is(err, ErrInvalidValue) {
			t.Fatalf("Sense(% x) error = %v, want ErrInvalidValue", r, err)
		}
	}
}

func TestDev_Sense_canceled(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true} // any Tx would fail the Close check below
	d, err := New(bus, Config{Addr: 0x48})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sense error = %v, want context.Canceled", err)
	}
	if bus.Count != 0 {
		t.Fatalf("%d transactions after cancellation", bus.Count)
	}
}

func TestDev_Halt_twice(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true}
	d, err := New(bus, Config{Addr: 0x48})
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
	if bus.Count != 0 {
		t.Fatalf("Halt used the bus %d times", bus.Count)
	}
}

func TestNew_errors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{name: "address too low", cfg: Config{Addr: 0x02}, want: ErrAddress},
		{name: "address too high", cfg: Config{Addr: 0x78}, want: ErrAddress},
		{name: "length too long", cfg: Config{Addr: 0x48, Format: U16BE, Length: 3}, want: ErrLength},
		{name: "short float", cfg: Config{Addr: 0x48, Format: F32LE, Length: 2}, want: ErrLength},
		{name: "negative length", cfg: Config{Addr: 0x48, Length: -1}, want: ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d, err := New(&i2ctest.Playback{}, tt.cfg); !errors.Is(err, tt.want) || d != nil {
				t.Fatalf("New = %v, %v; want %v", d, err, tt.want)
			}
		})
	}
	if _, err := New(&i2ctest.Playback{}, Config{Addr: 0x48, Format: Format(99)}); err == nil {
		t.Fatal("New accepted Format(99)")
	}
}

func TestParseFormat(t *testing.T) {
	for _, name := range FormatNames() {
		f, err := ParseFormat(name)
		if err != nil || f.String() != name {
			t.Fatalf("ParseFormat(%q) = %v, %v", name, f, err)
		}
	}
	if _, err := ParseFormat("u24"); err == nil {
		t.Fatal("ParseFormat accepted u24")
	}
}
