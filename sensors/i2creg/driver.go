package i2creg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/edgegw/edgegw/sensors"
)

// ErrBus is returned by ParseBus for a bus name it does not understand.
var ErrBus = errors.New(`i2creg: bus must be a number like "1" or a path like "/dev/i2c-1"`)

// devPrefix is where Linux exposes I²C adapters to user space (i2c-dev).
const devPrefix = "/dev/i2c-"

// maxBusNumber bounds bus numbers; Linux numbers adapters from 0 and boards
// rarely go past a few dozen.
const maxBusNumber = 9999

// DefaultBus is the bus used when a config entry names none: the header bus
// of a Raspberry Pi.
const DefaultBus = "1"

// Driver returns the "i2c_register" driver for a sensors.Registry.
func Driver() sensors.Driver {
	return sensors.DriverFunc(parseSpec, func(e entry, hw sensors.Hardware) (sensors.Sensor, error) {
		b, err := hw.I2C(e.bus)
		if err != nil {
			return nil, fmt.Errorf("i2creg: %w", err)
		}
		return New(b, e.cfg)
	})
}

// ParseBus returns the canonical name (the bus number, "1") of an I²C bus
// given as a number ("1") or as its device path ("/dev/i2c-1"). Other I²C
// drivers and the real sensors.Hardware use it so that both spellings share
// one bus handle.
func ParseBus(name string) (string, error) {
	n := strings.TrimPrefix(name, devPrefix)
	if n == "" || len(n) > 4 || strings.Trim(n, "0123456789") != "" {
		return "", fmt.Errorf("%w, got %q", ErrBus, name)
	}
	v, err := strconv.Atoi(n)
	if err != nil || v > maxBusNumber {
		return "", fmt.Errorf("%w, got %q", ErrBus, name)
	}
	return strconv.Itoa(v), nil
}

// BusOption reads the "bus" key of o (default DefaultBus) and returns it
// canonical, recording an error in o when it is not a bus name.
func BusOption(o *sensors.Options) string {
	raw := o.String("bus", DefaultBus)
	bus, err := ParseBus(raw)
	if err != nil {
		o.Errorf("bus", "%q is not an I²C bus: want a number like \"1\" or a path like \"/dev/i2c-1\"", raw)
		return DefaultBus
	}
	return bus
}

//

// entry is what an i2c_register config entry asks for: a register to read
// on a bus.
type entry struct {
	bus string
	cfg Config
}

// parseSpec reads every option of an i2c_register entry, reporting all
// mistakes at once with their lines.
func parseSpec(spec sensors.Spec) (entry, error) {
	o := &spec.Options
	bus := BusOption(o)
	var cfg Config
	cfg.Addr = uint16(intInRange(o, "address", spec.Line, MinAddress, MaxAddress))
	cfg.Register = uint8(intInRange(o, "register", spec.Line, 0, 255))
	cfg.Format, _ = ParseFormat(o.OneOf("format", U8.String(), formatNames[:]...)) // OneOf reports bad names
	if o.Has("length") {
		cfg.Length = o.Int("length", 0)
		if !cfg.Format.validLength(cfg.Length) {
			o.Errorf("length", "%d bytes cannot be read as %s (want 1..%d; floats exactly 4)", cfg.Length, cfg.Format, cfg.Format.Size())
		}
	}
	cfg.Scale = o.Float("scale", 1)
	if cfg.Scale == 0 {
		o.Errorf("scale", "must not be 0")
	}
	cfg.Offset = o.Float("offset", 0)
	cfg.Unit = o.String("unit", "")
	cfg.Quantity = o.String("quantity", "value")
	if cfg.Quantity == "" || strings.ContainsAny(cfg.Quantity, "/+#") {
		o.Errorf("quantity", "%q cannot be a topic level (empty, or contains / + #)", cfg.Quantity)
	}
	return entry{bus: bus, cfg: cfg}, o.Err()
}

// intInRange reads a required integer key and checks lo ≤ v ≤ hi.
func intInRange(o *sensors.Options, key string, line, lo, hi int) int {
	o.Required(key, line)
	v := o.Int(key, lo)
	if v < lo || v > hi {
		o.Errorf(key, "%d (%#x) is out of range %#x..%#x", v, v, lo, hi)
		return lo
	}
	return v
}
