package bmxx80

import (
	"fmt"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2creg"
)

// Driver returns the driver for chip, to register as chip.String() ("bme280"
// or "bmp280") in a sensors.Registry.
func Driver(chip Chip) sensors.Driver {
	return sensors.Driver{
		Check: func(spec sensors.Spec) error {
			_, _, err := parseSpec(spec)
			return err
		},
		Open: func(spec sensors.Spec, hw sensors.Hardware) (sensors.Sensor, error) {
			bus, addr, err := parseSpec(spec)
			if err != nil {
				return nil, err
			}
			b, err := hw.I2C(bus)
			if err != nil {
				return nil, fmt.Errorf("bmxx80: %s: %w", chip, err)
			}
			return New(b, addr, chip)
		},
	}
}

//

// parseSpec reads the bus and address keys, reporting every mistake with
// its line.
func parseSpec(spec sensors.Spec) (bus string, addr uint16, err error) {
	o := &spec.Options
	bus = i2creg.BusOption(o)
	a := o.Int("address", AddrSDOLow)
	if a != AddrSDOLow && a != AddrSDOHigh {
		o.Errorf("address", "%#x is not 0x76 or 0x77 (the chip's only addresses, chosen by its SDO pin)", a)
		a = AddrSDOLow
	}
	return bus, uint16(a), o.Err()
}
