package i2creg

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"periph.io/x/conn/v3/i2c"

	"github.com/edgegw/edgegw/sensors"
)

// Errors returned by New and Sense.
var (
	// ErrAddress is returned by New for an address outside 0x03..0x77, the
	// range of 7-bit addresses not reserved by the I²C specification.
	ErrAddress = errors.New("i2creg: address must be between 0x03 and 0x77")
	// ErrLength is returned by New when Length does not fit the Format.
	ErrLength = errors.New("i2creg: length does not fit the format")
	// ErrInvalidValue is returned by Sense when a float register holds NaN
	// or ±Inf.
	ErrInvalidValue = errors.New("i2creg: register holds no finite number")
	// ErrHalted is returned by Sense after Halt.
	ErrHalted = errors.New("i2creg: device halted")
)

// Address range of 7-bit addresses not reserved by the I²C specification.
const (
	MinAddress = 0x03
	MaxAddress = 0x77
)

// Config says which register to read and how to turn it into a reading.
type Config struct {
	Addr     uint16  // device address, MinAddress..MaxAddress
	Register uint8   // register address written before the read
	Format   Format  // how to decode the bytes
	Length   int     // bytes to read; 0 means Format.Size()
	Scale    float64 // multiplier; 0 means 1
	Offset   float64 // added after scaling
	Unit     string  // unit of the scaled value, e.g. "lx"
	Quantity string  // reading name; "" means "value"
}

// Dev reads one register of a device on an I²C bus.
type Dev struct {
	bus i2c.Bus
	cfg Config

	mu     sync.Mutex
	halted bool
}

var _ sensors.Sensor = (*Dev)(nil)

// New returns a Dev reading cfg.Register at cfg.Addr on bus. It checks the
// configuration but does not touch the bus. The Dev does not own the bus and
// never closes it.
func New(bus i2c.Bus, cfg Config) (*Dev, error) {
	if cfg.Addr < MinAddress || cfg.Addr > MaxAddress {
		return nil, fmt.Errorf("%w, got %#x", ErrAddress, cfg.Addr)
	}
	if int(cfg.Format) >= len(formatNames) {
		return nil, fmt.Errorf("i2creg: unknown format %d", cfg.Format)
	}
	if cfg.Length == 0 {
		cfg.Length = cfg.Format.Size()
	}
	if !cfg.Format.validLength(cfg.Length) {
		return nil, fmt.Errorf("%w: %d bytes of %s", ErrLength, cfg.Length, cfg.Format)
	}
	if cfg.Scale == 0 {
		cfg.Scale = 1
	}
	if cfg.Quantity == "" {
		cfg.Quantity = "value"
	}
	return &Dev{bus: bus, cfg: cfg}, nil
}

// String names the device: the bus, address and register.
func (d *Dev) String() string {
	return fmt.Sprintf("i2c_register{%s(%#x)[%#x]}", d.bus, d.cfg.Addr, d.cfg.Register)
}

// Sense reads the register in one bus transaction and returns one reading,
// raw*Scale + Offset, named Quantity.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return nil, ErrHalted
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("i2creg: %w", err)
	}
	buf := make([]byte, d.cfg.Length)
	if err := d.bus.Tx(d.cfg.Addr, []byte{d.cfg.Register}, buf); err != nil {
		return nil, fmt.Errorf("i2creg: read register %#x at %#x: %w", d.cfg.Register, d.cfg.Addr, err)
	}
	raw := d.cfg.Format.decode(buf)
	if math.IsNaN(raw) || math.IsInf(raw, 0) {
		return nil, fmt.Errorf("%w: % x decodes to %v", ErrInvalidValue, buf, raw)
	}
	v := raw*d.cfg.Scale + d.cfg.Offset
	return []sensors.Reading{{Quantity: d.cfg.Quantity, Value: v, Unit: d.cfg.Unit}}, nil
}

// Halt stops further reads. The device itself is left as it is; the bus stays
// open for its owner. Halt is safe to call twice.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.halted = true
	return nil
}
