// Package hw is the real sensors.Hardware of cmd/gateway: periph's host
// drivers for I²C and GPIO, go.bug.st/serial for UARTs.
//
// Hardware owns the I²C buses it opens: every driver asking for one bus gets
// the same handle (periph serialises transactions on it), the handle it hands
// out cannot be closed, and Close closes them all at shutdown. "1" and
// "/dev/i2c-1" name the same bus (see i2creg.ParseBus).
//
// Nothing here panics on a board without the hardware: a missing
// /dev/i2c-N or pin is an error the poller logs and retries.
package hw

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"go.bug.st/serial"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	periphi2c "periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/host/v3"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2creg"
)

// Errors returned by Hardware.
var (
	// ErrClosed is returned by I2C after Close.
	ErrClosed = errors.New("hw: closed")
	// ErrNoBus is returned by I2C when the bus's device node does not exist:
	// I²C is disabled (Raspberry Pi: dtparam=i2c_arm=on in config.txt) or
	// the i2c-dev module is not loaded.
	ErrNoBus = errors.New("hw: no such I²C bus")
	// ErrNoGPIO is returned by GPIO when the host has no GPIO controller at
	// all (no /dev/gpiochip*): not a board with GPIO, or a container or VM
	// the devices were not passed into.
	ErrNoGPIO = errors.New("hw: no GPIO controller (no /dev/gpiochip*)")
)

// Hardware opens buses, pins and ports on the host. The zero value is not
// usable; call New.
type Hardware struct {
	log *slog.Logger
	dev string // directory of the i2c-N device nodes; "/dev"

	initOnce sync.Once
	initErr  error

	mu     sync.Mutex // guards buses and closed
	buses  map[string]i2c.BusCloser
	closed bool
}

var _ sensors.Hardware = (*Hardware)(nil)

// New returns a Hardware that logs to logger (nil discards). It starts and
// opens nothing.
func New(logger *slog.Logger) *Hardware {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Hardware{log: logger, dev: "/dev", buses: map[string]i2c.BusCloser{}}
}

// Init loads periph's host drivers, once; later calls return the first
// result. I2C and GPIO call it themselves, so calling it from main only moves
// the cost (and the log lines) to start-up.
func (h *Hardware) Init() error {
	h.initOnce.Do(func() {
		state, err := host.Init()
		if err != nil {
			h.initErr = fmt.Errorf("hw: periph host init: %w", err)
			return
		}
		for _, f := range state.Failed {
			h.log.Debug("periph driver failed to load", "driver", f.D.String(), "err", f.Err)
		}
		for _, d := range state.Loaded {
			h.log.Debug("periph driver loaded", "driver", d.String())
		}
	})
	return h.initErr
}

// I2C returns the shared handle of bus ("1", "/dev/i2c-1", or another name
// periph knows), opening it on first use. The handle cannot be closed by its
// users; Close closes it.
func (h *Hardware) I2C(bus string) (i2c.Bus, error) {
	name := bus
	if canonical, err := i2creg.ParseBus(bus); err == nil {
		name = canonical
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if b, ok := h.buses[name]; ok {
		return sharedBus{b}, nil
	}
	b, err := h.openBus(name)
	if err != nil {
		return nil, err
	}
	h.buses[name] = b
	h.log.Info("i2c bus opened", "bus", b.String())
	return sharedBus{b}, nil
}

// GPIO returns the pin periph knows as name (see gpio.ValidatePinName for
// the accepted shapes).
func (h *Hardware) GPIO(name string) (gpio.PinIO, error) {
	if err := h.Init(); err != nil {
		return nil, err
	}
	p := gpioreg.ByName(name)
	if p == nil {
		if chips, _ := filepath.Glob(filepath.Join(h.dev, "gpiochip*")); len(chips) == 0 {
			return nil, fmt.Errorf("pin %q: %w", name, ErrNoGPIO)
		}
		return nil, fmt.Errorf("hw: no pin %q on this board", name)
	}
	return p, nil
}

// Serial opens port with mode. The caller owns the port and closes it.
func (h *Hardware) Serial(port string, mode *serial.Mode) (sensors.SerialPort, error) {
	p, err := serial.Open(port, mode)
	if err != nil {
		return nil, fmt.Errorf("hw: open serial port %s: %w", port, err)
	}
	return p, nil
}

// Close closes every bus I2C opened. Later I2C calls fail with ErrClosed.
// Close is safe to call twice; the second call returns nil.
func (h *Hardware) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	var errs []error
	for name, b := range h.buses {
		if err := b.Close(); err != nil {
			errs = append(errs, fmt.Errorf("hw: close i2c bus %s: %w", name, err))
		}
		delete(h.buses, name)
	}
	return errors.Join(errs...)
}

//

// openBus opens a bus by canonical name; h.mu is held.
func (h *Hardware) openBus(name string) (i2c.BusCloser, error) {
	if _, err := i2creg.ParseBus(name); err == nil {
		node := h.dev + "/i2c-" + name
		if _, err := os.Stat(node); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist (enable I²C and load i2c-dev)", ErrNoBus, node)
		}
	}
	if err := h.Init(); err != nil {
		return nil, err
	}
	if len(periphi2c.All()) == 0 { // periph would ask whether Init was called
		return nil, fmt.Errorf("%w: %q: periph found no I²C bus on this host", ErrNoBus, name)
	}
	b, err := periphi2c.Open(name)
	if err != nil {
		return nil, fmt.Errorf("hw: open i2c bus %s: %w", name, err)
	}
	return b, nil
}

// sharedBus hides the Close of a shared bus from the drivers using it.
type sharedBus struct{ b i2c.Bus }

// String implements i2c.Bus.
func (s sharedBus) String() string { return s.b.String() }

// Tx implements i2c.Bus.
func (s sharedBus) Tx(addr uint16, w, r []byte) error { return s.b.Tx(addr, w, r) }

// SetSpeed implements i2c.Bus.
func (s sharedBus) SetSpeed(f physic.Frequency) error { return s.b.SetSpeed(f) }
