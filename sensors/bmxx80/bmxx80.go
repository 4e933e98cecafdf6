package bmxx80

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	periphbmx "periph.io/x/devices/v3/bmxx80"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// Errors returned by New and Sense.
var (
	// ErrAddress is returned by New for an address other than 0x76 or 0x77,
	// the only two the chips can be strapped to.
	ErrAddress = errors.New("bmxx80: address must be 0x76 or 0x77")
	// ErrWrongChip is returned by New when the chip id register names another
	// chip than the driver expects; the message names the chip found.
	ErrWrongChip = errors.New("bmxx80: wrong chip")
	// ErrImplausible is returned by Sense when a compensated value lies
	// outside the chip's operating range (-40..85 °C, 300..1100 hPa), which
	// means a broken chip or a bad read, not weather.
	ErrImplausible = errors.New("bmxx80: implausible reading")
	// ErrHalted is returned by Sense after Halt.
	ErrHalted = errors.New("bmxx80: device halted")
)

// Chip is a sensor model this package drives.
type Chip uint8

// The supported chips.
const (
	BME280 Chip = iota + 1 // temperature, pressure, humidity; chip id 0x60
	BMP280                 // temperature, pressure; chip id 0x58
)

// String returns the chip's driver name: "bme280" or "bmp280".
func (c Chip) String() string {
	switch c {
	case BME280:
		return "bme280"
	case BMP280:
		return "bmp280"
	}
	return fmt.Sprintf("Chip(%d)", uint8(c))
}

// Addresses the chips answer on, chosen by the SDO pin.
const (
	AddrSDOLow  = 0x76 // SDO to ground; the usual breakout default
	AddrSDOHigh = 0x77 // SDO to VDDIO
)

// Dev is one BME280 or BMP280 on an I²C bus.
type Dev struct {
	chip Chip
	addr uint16

	mu     sync.Mutex     // serialises Sense and Halt; guards bus.Ctx and halted
	bus    *i2cdev.CtxBus // handed to periph's driver, bound to Sense's ctx
	dev    *periphbmx.Dev
	halted bool
}

var _ sensors.Sensor = (*Dev)(nil)

// New checks addr, reads the chip id and fails with ErrWrongChip unless it
// is chip, then reads the calibration and leaves the chip asleep, configured
// for forced measurements with periph's DefaultOpts (4x oversampling, no
// filter). Dev does not own bus and never closes it.
func New(bus i2c.Bus, addr uint16, chip Chip) (*Dev, error) {
	if chip != BME280 && chip != BMP280 {
		return nil, fmt.Errorf("bmxx80: unsupported %v", chip)
	}
	if addr != AddrSDOLow && addr != AddrSDOHigh {
		return nil, fmt.Errorf("%w, got %#x", ErrAddress, addr)
	}
	d := &Dev{chip: chip, addr: addr, bus: &i2cdev.CtxBus{Bus: bus}}
	if err := d.checkChipID(); err != nil {
		return nil, err
	}
	opts := periphbmx.DefaultOpts
	dev, err := periphbmx.NewI2C(d.bus, addr, &opts)
	if err != nil {
		return nil, fmt.Errorf("bmxx80: %s at %#x on %s: init: %w", chip, addr, bus, err)
	}
	d.dev = dev
	return d, nil
}

// String names the chip, bus and address, e.g. "bme280{/dev/i2c-1(0x76)}".
func (d *Dev) String() string {
	return fmt.Sprintf("%s{%s(%#x)}", d.chip, d.bus, d.addr)
}

// Sense measures once and returns temperature (°C) and pressure (hPa), plus
// humidity (%) on a BME280. It takes about 30 ms.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return nil, ErrHalted
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bmxx80: %w", err)
	}
	d.bus.Ctx = ctx
	defer func() { d.bus.Ctx = nil }()
	var e physic.Env
	if err := d.dev.Sense(&e); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("bmxx80: %s: sense: %w", d, ctxErr)
		}
		return nil, fmt.Errorf("bmxx80: %s: sense: %w", d, err)
	}
	return d.readings(e)
}

// Halt stops further measurements. In forced mode the chip already sleeps
// between measurements, so Halt sends nothing; the bus stays open for its
// owner. Halt is safe to call twice.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return nil
	}
	d.halted = true
	if err := d.dev.Halt(); err != nil {
		return fmt.Errorf("bmxx80: %s: halt: %w", d, err)
	}
	return nil
}

//

// Registers and chip ids, BME280 datasheet section 5.4 and BMP280 4.3.
const (
	regChipID = 0xD0
	idBMP180  = 0x55
	idBMP280  = 0x58
	idBME280  = 0x60
	idBME680  = 0x61
)

// Operating range, BME280 and BMP280 datasheets, table 1 / table 2.
const (
	minCelsius = -40
	maxCelsius = 85
	minHPa     = 300
	maxHPa     = 1100
)

func (c Chip) id() byte {
	if c == BME280 {
		return idBME280
	}
	return idBMP280
}

// checkChipID reads register 0xD0 and compares it with the chip expected.
func (d *Dev) checkChipID() error {
	var id [1]byte
	if err := d.bus.Tx(d.addr, []byte{regChipID}, id[:]); err != nil {
		return fmt.Errorf("bmxx80: %s: no answer at %#x on %s: %w", d.chip, d.addr, d.bus, err)
	}
	if id[0] == d.chip.id() {
		return nil
	}
	found, hint := chipName(id[0])
	if hint != "" {
		hint = "; use driver " + hint
	}
	return fmt.Errorf("%w: %s driver found %s (chip id 0x%02x) at %#x on %s%s",
		ErrWrongChip, d.chip, found, id[0], d.addr, d.bus, hint)
}

// chipName describes a chip id and names the driver to use for it, if any.
func chipName(id byte) (name, driver string) {
	switch id {
	case idBME280:
		return "a BME280", BME280.String()
	case idBMP280:
		return "a BMP280", BMP280.String()
	case idBMP180:
		return "a BMP180 (unsupported)", ""
	case idBME680:
		return "a BME680 (unsupported)", ""
	}
	return "an unknown chip", ""
}

// readings converts periph's units to the Reading units at the edge.
func (d *Dev) readings(e physic.Env) ([]sensors.Reading, error) {
	celsius := e.Temperature.Celsius()
	hPa := float64(e.Pressure) / float64(100*physic.Pascal)
	if celsius < minCelsius || celsius > maxCelsius || hPa < minHPa || hPa > maxHPa {
		return nil, fmt.Errorf("%w: %s: %.2f °C, %.2f hPa", ErrImplausible, d, celsius, hPa)
	}
	out := []sensors.Reading{
		{Quantity: "temperature", Value: celsius, Unit: "°C"},
		{Quantity: "pressure", Value: hPa, Unit: "hPa"},
	}
	if d.chip == BME280 {
		percent := float64(e.Humidity) / float64(physic.PercentRH) // periph clamps it to 0..100
		out = append(out, sensors.Reading{Quantity: "humidity", Value: percent, Unit: "%"})
	}
	return out, nil
}
