package hw

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.bug.st/serial"
	"go.uber.org/goleak"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/i2c"
	periphi2c "periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors/sensorstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newHW returns a Hardware whose device nodes live in a temporary directory.
func newHW(t *testing.T) (*Hardware, string) {
	h := New(nil)
	h.dev = t.TempDir()
	t.Cleanup(func() { h.Close() })
	return h, h.dev
}

func TestHardware_I2C_missingBus(t *testing.T) {
	real := New(nil) // the real /dev, which has no bus 250
	if b, err := real.I2C("/dev/i2c-250"); b != nil || !errors.Is(err, ErrNoBus) || !strings.Contains(err.Error(), "/dev/i2c-250 does not exist") {
		t.Fatalf("I2C(/dev/i2c-250) = %v, %v; want ErrNoBus", b, err)
	}
	h, dev := newHW(t)
	for _, name := range []string{"1", "/dev/i2c-1"} {
		b, err := h.I2C(name)
		if b != nil || !errors.Is(err, ErrNoBus) {
			t.Fatalf("I2C(%q) = %v, %v; want ErrNoBus", name, b, err)
		}
		if want := filepath.Join(dev, "i2c-1") + " does not exist"; !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not say %q", err, want)
		}
	}
}

func TestHardware_I2C_unknownToPeriph(t *testing.T) {
	h, dev := newHW(t)
	// The node exists but periph registered no bus 7 (this machine has no
	// /dev/i2c-7), and no bus has the name "no-such-bus".
	if err := os.WriteFile(filepath.Join(dev, "i2c-7"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	names := []string{"7", "no-such-bus"}
	if err := h.Init(); err != nil {
		t.Fatal(err)
	}
	if len(periphi2c.All()) == 0 { // a host without I²C, like CI
		for _, name := range names {
			if b, err := h.I2C(name); b != nil || !errors.Is(err, ErrNoBus) || !strings.Contains(err.Error(), "periph found no I²C bus") {
				t.Fatalf("I2C(%q) = %v, %v; want ErrNoBus", name, b, err)
			}
		}
	}
	registerBus(t, 4243, &fakeBus{}) // now periph knows some bus, not these
	for _, name := range names {
		if b, err := h.I2C(name); b != nil || err == nil || !strings.HasPrefix(err.Error(), "hw: open i2c bus "+name+": i2creg: ") {
			t.Fatalf("I2C(%q) = %v, %v; want periph's error, wrapped", name, b, err)
		}
	}
}

// fakeBus is a closable playback bus registered in periph's registry.
type fakeBus struct {
	i2ctest.Playback
	mu     sync.Mutex
	closes int
}

func (b *fakeBus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closes++
	return nil
}

// registerBus registers a fake bus numbered n and counts how often periph
// opens it.
func registerBus(t *testing.T, n int, bus *fakeBus) *int {
	t.Helper()
	opens := new(int)
	name := fmt.Sprintf("edgegw-test-%d", n)
	if err := periphi2c.Register(name, nil, n, func() (i2c.BusCloser, error) {
		*opens++
		return bus, nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { periphi2c.Unregister(name) })
	return opens
}

func TestHardware_I2C_shared(t *testing.T) {
	h, dev := newHW(t)
	if err := os.WriteFile(filepath.Join(dev, "i2c-4242"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bus := &fakeBus{Playback: i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x2A}}, // one read through the first handle
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x2B}}, // one through the second
	}}}
	opens := registerBus(t, 4242, bus)

	b1, err := h.I2C("4242")
	if err != nil {
		t.Fatal(err)
	}
	b2, err := h.I2C("/dev/i2c-4242")
	if err != nil {
		t.Fatal(err)
	}
	if *opens != 1 {
		t.Fatalf("periph opened the bus %d times, want 1", *opens)
	}
	if _, ok := b1.(io.Closer); ok {
		t.Fatal("drivers get a closable bus")
	}
	r := make([]byte, 1)
	for i, b := range []i2c.Bus{b1, b2} {
		if err := b.Tx(0x48, []byte{0x00}, r); err != nil || r[0] != byte(0x2A+i) {
			t.Fatalf("Tx through handle %d = %v, read %#x", i+1, err, r[0])
		}
	}
	if err := bus.Playback.Close(); err != nil { // both reads went to the one bus
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if bus.closes != 1 {
		t.Fatalf("bus closed %d times, want 1", bus.closes)
	}
	if _, err := h.I2C("4242"); !errors.Is(err, ErrClosed) {
		t.Fatalf("I2C after Close = %v, want ErrClosed", err)
	}
}

func TestHardware_Close_idempotent(t *testing.T) {
	h := New(nil)
	for i := 0; i < 3; i++ {
		if err := h.Close(); err != nil {
			t.Fatalf("Close #%d = %v", i+1, err)
		}
	}
	if _, err := h.I2C("1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("I2C after Close = %v, want ErrClosed", err)
	}
}

func TestHardware_Init_once(t *testing.T) {
	h := New(nil)
	err1, err2 := h.Init(), h.Init()
	if err1 != err2 {
		t.Fatalf("Init = %v then %v", err1, err2)
	}
}

func TestHardware_GPIO(t *testing.T) {
	h, dev := newHW(t) // no gpiochip in dev: the host has no GPIO at all
	if p, err := h.GPIO("GPIO27"); p != nil || !errors.Is(err, ErrNoGPIO) ||
		err.Error() != `pin "GPIO27": hw: no GPIO controller (no /dev/gpiochip*)` {
		t.Fatalf("GPIO(GPIO27) without a gpiochip = %v, %v; want ErrNoGPIO", p, err)
	}
	if err := os.WriteFile(filepath.Join(dev, "gpiochip0"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := h.GPIO("GPIO9999"); p != nil || err == nil || err.Error() != `hw: no pin "GPIO9999" on this board` {
		t.Fatalf("GPIO(GPIO9999) = %v, %v", p, err)
	}
	pin := &gpiotest.Pin{N: "EDGEGW_TEST_PIN", Num: -1}
	if err := gpioreg.Register(pin); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gpioreg.Unregister(pin.N) })
	if p, err := h.GPIO("EDGEGW_TEST_PIN"); err != nil || p != pin {
		t.Fatalf("GPIO(EDGEGW_TEST_PIN) = %v, %v; want the registered pin", p, err)
	}
}

func TestHardware_Serial(t *testing.T) {
	h := New(nil)
	if p, err := h.Serial(filepath.Join(t.TempDir(), "ttyUSB0"), &serial.Mode{BaudRate: 9600}); p != nil || err == nil {
		t.Fatalf("Serial on a missing device = %v, %v; want an error", p, err)
	}
	pty, err := sensorstest.OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer pty.Close()
	port, err := h.Serial(pty.Path, &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	if err := port.SetReadTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := pty.Master.Write([]byte("$GPGGA\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := port.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "$GPGGA") {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
}
