package sgp30

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

func TestMain(m *testing.M) {
	measureEvery = 2 * time.Millisecond
	measureWait = 0
	os.Exit(m.Run())
}

// chip is a fake SGP30 answering the commands of the datasheet (table 10):
// get_serial_id, iaq_init and measure_iaq with answer.
type chip struct {
	mu       sync.Mutex
	last     uint16
	answer   []byte // of measure_iaq
	baseline []byte // of get_iaq_baseline
	inits    int
	measures int
	gone     bool
	writes   [][]byte // commands with arguments (set_absolute_humidity, set_iaq_baseline)
}

func (c *chip) String() string                  { return "fake" }
func (c *chip) SetSpeed(physic.Frequency) error { return nil }
func (c *chip) Tx(addr uint16, w, r []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone || addr != Addr {
		return errors.New("fake: NACK")
	}
	if len(w) >= 2 {
		c.last = uint16(w[0])<<8 | uint16(w[1])
		if c.last == cmdInit {
			c.inits++
		}
		if len(w) > 2 {
			c.writes = append(c.writes, append([]byte(nil), w...))
		}
	}
	switch {
	case len(r) == 0:
	case c.last == cmdSerial:
		copy(r, i2cdev.Encode(0, 0x0123, 0x4567))
	case c.last == cmdMeasure:
		c.measures++
		copy(r, c.answer)
	case c.last == cmdGetBaseline:
		copy(r, c.baseline)
	}
	return nil
}

func (c *chip) set(f func(c *chip)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c)
}

func (c *chip) count() (inits, measures int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inits, c.measures
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// watch runs d.Watch until the test ends.
func watch(t *testing.T, d *Dev) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Watch(ctx, func([]sensors.Reading) { t.Error("Watch emitted") }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch = %v", err)
		}
	})
}

// measure_iaq answering eCO₂ 0x01A4 = 420 ppm and TVOC 0x000D = 13 ppb.
func TestDev_Watch_Sense(t *testing.T) {
	c := &chip{answer: i2cdev.Encode(420, 13)}
	clk := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	d, err := New(c, Opts{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.String(), "#000001234567") {
		t.Errorf("String = %q, want the serial number", d)
	}
	if _, err := d.Sense(context.Background()); !errors.Is(err, ErrNoData) {
		t.Fatalf("Sense before Watch = %v, want ErrNoData", err)
	}
	watch(t, d)
	sensorstest.WaitFor(t, 10*time.Second, "a measurement", func() bool { _, m := c.count(); return m >= 1 })
	if got, err := d.Sense(context.Background()); got != nil || err != nil {
		t.Fatalf("Sense during warm-up = %v, %v; want nothing", got, err)
	}
	clk.add(16 * time.Second)
	_, before := c.count()
	sensorstest.WaitFor(t, 10*time.Second, "a measurement after warm-up", func() bool { _, m := c.count(); return m >= before+2 })
	got, err := d.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (sensors.Reading{Quantity: "eco2", Value: 420, Unit: "ppm", Time: clk.now()}) ||
		got[1].Quantity != "tvoc" || got[1].Value != 13 || got[1].Unit != "ppb" {
		t.Fatalf("Sense = %+v, want 420 ppm, 13 ppb", got)
	}
	if inits, _ := c.count(); inits != 1 {
		t.Fatalf("%d iaq_init, want 1", inits)
	}
}

// A corrupted answer ends Watch with an ErrCRC error; Sense reports it once
// the values are stale, and never the corrupted values.
func TestDev_Watch_badCRC(t *testing.T) {
	c := &chip{answer: []byte{0x01, 0xA4, 0x00, 0x00, 0x0D, 0x00}}
	clk := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	d, err := New(c, Opts{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Watch(ctx, nil); !errors.Is(err, i2cdev.ErrCRC) {
		t.Fatalf("Watch = %v, want ErrCRC", err)
	}
	clk.add(time.Minute)
	if got, err := d.Sense(context.Background()); !errors.Is(err, ErrNoData) || !errors.Is(err, i2cdev.ErrCRC) || got != nil {
		t.Fatalf("Sense = %v, %v; want ErrNoData from the CRC error", got, err)
	}
}

// The chip disappears: Watch returns the bus error, Sense fails once the
// last values are 3 s old; the chip is back: a new Watch (the poller's
// restart) initialises it again and Sense reports again after warm-up.
func TestDev_Watch_chipGoneAndBack(t *testing.T) {
	c := &chip{answer: i2cdev.Encode(500, 20)}
	clk := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	d, err := New(c, Opts{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	c.set(func(c *chip) { c.gone = true })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Watch(ctx, nil); err == nil || !strings.Contains(err.Error(), "iaq_init: fake: NACK") {
		t.Fatalf("Watch on a missing chip = %v", err)
	}
	if _, err := d.Sense(ctx); !errors.Is(err, ErrNoData) {
		t.Fatalf("Sense = %v", err)
	}
	c.set(func(c *chip) { c.gone = false })
	watch(t, d)
	sensorstest.WaitFor(t, 10*time.Second, "iaq_init", func() bool { i, _ := c.count(); return i == 1 })
	clk.add(20 * time.Second)
	_, before := c.count()
	sensorstest.WaitFor(t, 10*time.Second, "measurements", func() bool { _, m := c.count(); return m >= before+2 })
	if got, err := d.Sense(ctx); err != nil || len(got) != 2 || got[0].Value != 500 {
		t.Fatalf("Sense after the chip came back = %v, %v", got, err)
	}
	d.Halt()
	d.Halt()
	if _, err := d.Sense(ctx); !errors.Is(err, sensors.ErrHalted) {
		t.Fatalf("Sense after Halt = %v", err)
	}
}

func TestNew_errors(t *testing.T) {
	if _, err := New(&i2ctest.Playback{DontPanic: true}, Opts{}); err == nil || !strings.HasPrefix(err.Error(), "sgp30: no answer at playback(0x58)") {
		t.Fatalf("New without a chip = %v", err)
	}
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: Addr, W: []byte{0x36, 0x82}},                   // get_serial_id
		{Addr: Addr, R: []byte{0, 0, 0x81, 1, 2, 3, 4, 5, 6}}, // second word's CRC wrong
	}, DontPanic: true}
	if _, err := New(bus, Opts{}); !errors.Is(err, i2cdev.ErrCRC) {
		t.Fatalf("New with a corrupted serial = %v", err)
	}
}
