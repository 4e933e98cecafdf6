package scd4x

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

func TestMain(m *testing.M) {
	doSleep = func(time.Duration) {} // stop_periodic_measurement's 500 ms
	sleep = func(ctx context.Context, d time.Duration) error { return i2cdev.Sleep(ctx, min(d, time.Millisecond)) }
	pollEvery = time.Millisecond
	os.Exit(m.Run())
}

// newOps is what New sends: stop_periodic_measurement, get_serial_number
// (three words), start_periodic_measurement (start).
func newOps(start []byte) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: Addr, W: []byte{0x3F, 0x86}},
		{Addr: Addr, W: []byte{0x36, 0x82}},
		{Addr: Addr, R: i2cdev.Encode(0x1234, 0x5678, 0x9ABC)},
		{Addr: Addr, W: start},
	}
}

// dataReady is one get_data_ready_status with its answer.
func dataReady(status uint16) []i2ctest.IO {
	return []i2ctest.IO{{Addr: Addr, W: []byte{0xE4, 0xB8}}, {Addr: Addr, R: i2cdev.Encode(status)}}
}

// measurement is read_measurement with its three words and their CRCs.
func measurement(answer []byte) []i2ctest.IO {
	return []i2ctest.IO{{Addr: Addr, W: []byte{0xEC, 0x05}}, {Addr: Addr, R: answer}}
}

// datasheetAnswer is the read_measurement example of the datasheet
// (section 3.6.2): CO₂ 0x01F4 = 500 ppm, T 0x6667 = 25 °C, RH 0x5EB9 = 37 %,
// each word followed by its CRC.
var datasheetAnswer = []byte{0x01, 0xF4, 0x33, 0x66, 0x67, 0xA2, 0x5E, 0xB9, 0x3C}

func TestDev_Sense(t *testing.T) {
	var ops []i2ctest.IO
	ops = append(ops, newOps([]byte{0x21, 0xB1})...)
	ops = append(ops, dataReady(0x8000)...) // 11 low bits 0: not ready (bit 15 is not part of it)
	ops = append(ops, dataReady(0x8006)...) // ready
	ops = append(ops, measurement(datasheetAnswer)...)
	ops = append(ops, i2ctest.IO{Addr: Addr, W: []byte{0x3F, 0x86}}) // Halt: stop_periodic_measurement
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	d, err := New(bus, Opts{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Serial() != 0x123456789ABC {
		t.Errorf("Serial = %#x", d.Serial())
	}
	got, err := d.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []sensors.Reading{
		{Quantity: "co2", Value: 500, Unit: "ppm"},
		{Quantity: "temperature", Value: 25, Unit: "°C"},
		{Quantity: "humidity", Value: 37, Unit: "%"},
	}
	sensorstest.CheckReadings(t, got, want, 0.01)
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

func TestDev_Sense_badCRC(t *testing.T) {
	for _, ops := range [][]i2ctest.IO{
		append(dataReady(0x8006), measurement([]byte{0x01, 0xF4, 0x33, 0x66, 0x67, 0xA3, 0x5E, 0xB9, 0x3C})...), // temperature CRC wrong
		{{Addr: Addr, W: []byte{0xE4, 0xB8}}, {Addr: Addr, R: []byte{0x80, 0x06, 0x00}}},                        // data-ready CRC wrong
	} {
		bus := &i2ctest.Playback{Ops: append(newOps([]byte{0x21, 0xB1}), ops...), DontPanic: true}
		d, err := New(bus, Opts{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Sense(context.Background())
		if !errors.Is(err, i2cdev.ErrCRC) || got != nil {
			t.Fatalf("Sense = %v, %v; want an ErrCRC error and no reading", got, err)
		}
		if err := bus.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNew_errors(t *testing.T) {
	if _, err := New(&i2ctest.Playback{DontPanic: true}, Opts{}); err == nil || !strings.HasPrefix(err.Error(), "scd4x: no answer at playback(0x62)") {
		t.Fatalf("New without a chip = %v", err)
	}
	ops := newOps(nil)[:3]
	ops[2].R = []byte{0x12, 0x34, 0x00, 0x56, 0x78, 0x7D, 0x9A, 0xBC, 0x00}
	if _, err := New(&i2ctest.Playback{Ops: ops, DontPanic: true}, Opts{}); !errors.Is(err, i2cdev.ErrCRC) {
		t.Fatalf("New with a corrupted serial number = %v", err)
	}
}

// chip is a fake SCD4x: it answers data-ready as ready says, records the
// commands it gets, and refuses start while measuring (as the chip NACKs).
type chip struct {
	mu        sync.Mutex
	ready     bool
	measuring bool
	cmds      []uint16
	last      uint16
}

func (c *chip) String() string                  { return "fake" }
func (c *chip) SetSpeed(physic.Frequency) error { return nil }
func (c *chip) Tx(addr uint16, w, r []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(w) >= 2 {
		c.last = uint16(w[0])<<8 | uint16(w[1])
		c.cmds = append(c.cmds, c.last)
		switch c.last {
		case cmdStart, cmdStartLowPower:
			if c.measuring {
				return errors.New("fake: NACK")
			}
			c.measuring = true
		case cmdStop:
			c.measuring = false
		}
	}
	if len(r) == 0 {
		return nil
	}
	switch c.last {
	case cmdSerial:
		copy(r, i2cdev.Encode(1, 2, 3))
	case cmdDataReady:
		status := uint16(0x8000)
		if c.ready && c.measuring {
			status = 0x8006
		}
		copy(r, i2cdev.Encode(status))
	case cmdRead:
		copy(r, datasheetAnswer)
	case cmdForcedRecalib:
		copy(r, i2cdev.Encode(0x8003)) // a correction of +3 ppm
	}
	return nil
}

func (c *chip) commands() []uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]uint16(nil), c.cmds...)
}

// A poll faster than the chip measures gets nothing and no error; once the
// last measurement is two periods old, Sense fails with ErrStale and the
// next Sense starts periodic measurement again (a chip that was
// power-cycled forgot it) and reads again.
func TestDev_Sense_staleAndRestart(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	c := &chip{}
	d, err := New(c, Opts{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	sense := func() ([]sensors.Reading, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		return d.Sense(ctx)
	}
	now = now.Add(4 * time.Second)
	if got, err := sense(); got != nil || err != nil {
		t.Fatalf("Sense before the first measurement = %v, %v; want nothing", got, err)
	}
	now = now.Add(7 * time.Second) // 11 s after start: over two periods
	c.mu.Lock()
	c.measuring = false // power cycle: the chip forgot it was measuring
	c.mu.Unlock()
	if got, err := sense(); !errors.Is(err, ErrStale) || got != nil {
		t.Fatalf("Sense of a stale chip = %v, %v; want ErrStale", got, err)
	}
	c.mu.Lock()
	c.ready = true
	c.mu.Unlock()
	got, err := sense()
	if err != nil || len(got) != 3 || got[0].Value != 500 {
		t.Fatalf("Sense after restart = %v, %v", got, err)
	}
	cmds := c.commands()
	if n := count(cmds, cmdStart); n != 2 {
		t.Fatalf("start_periodic_measurement sent %d times, want 2 (New, restart): %x", n, cmds)
	}
}

func TestNew_lowPower(t *testing.T) {
	bus := &i2ctest.Playback{Ops: newOps([]byte{0x21, 0xAC}), DontPanic: true}
	if _, err := New(bus, Opts{LowPower: true}); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func count(list []uint16, v uint16) int {
	n := 0
	for _, x := range list {
		if x == v {
			n++
		}
	}
	return n
}

func TestDriver(t *testing.T) {
	sensorstest.CheckErrors(t, Driver(), sensorstest.Spec("scd4x", map[string]sensors.Option{"low_power": {Value: "yes", Line: 11}, "lowpower": {Value: true, Line: 12}}), "gw.yaml:11: low_power: want true or false, got yes", `gw.yaml:12: lowpower: unknown option for driver scd4x (did you mean "low_power"?)`)
	bus := &i2ctest.Playback{Ops: newOps([]byte{0x21, 0xAC}), DontPanic: true}
	s, err := Driver().Open(sensorstest.Spec("scd4x", map[string]sensors.Option{"low_power": {Value: true, Line: 11}}), &sensorstest.Hardware{Buses: map[string]i2c.Bus{"1": bus}})
	if err != nil || s == nil {
		t.Fatalf("Open = %v, %v", s, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	qs, _ := Driver().Quantities(sensorstest.Spec("scd4x", nil))
	if len(qs) != 3 || qs[0] != (sensors.Quantity{Name: "co2", Unit: "ppm"}) {
		t.Fatalf("Quantities = %v", qs)
	}
}
