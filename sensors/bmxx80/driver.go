package bmxx80

import (
	"fmt"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2creg"
)

// Driver returns the driver for chip, to register as chip.String() ("bme280"
// or "bmp280") in a sensors.Registry.
func Driver(chip Chip) sensors.Driver {
	d := sensors.DriverFunc(parseSpec, func(t target, hw sensors.Hardware) (sensors.Sensor, error) {
		b, err := hw.I2C(t.bus)
		if err != nil {
			return nil, fmt.Errorf("bmxx80: %s: %w", chip, err)
		}
		return New(b, t.addr, chip)
	})
	d.Quantities = func(sensors.Spec) ([]sensors.Quantity, error) {
		qs := []sensors.Quantity{{Name: "temperature", Unit: "°C"}, {Name: "pressure", Unit: "hPa"}}
		if chip == BME280 {
			qs = append(qs, sensors.Quantity{Name: "humidity", Unit: "%"})
		}
		return qs, nil
	}
	return d
}

//

// target is where a config entry puts the chip: its bus and address.
type target struct {
	bus  string
	addr uint16
}

// parseSpec reads the bus and address keys, reporting every mistake with
// its line.
func parseSpec(spec sensors.Spec) (target, error) {
	o := &spec.Options
	bus := i2creg.BusOption(o)
	a := o.Int("address", AddrSDOLow)
	if a != AddrSDOLow && a != AddrSDOHigh {
		o.Errorf("address", "%#x is not 0x76 or 0x77 (the chip's only addresses, chosen by its SDO pin)", a)
		a = AddrSDOLow
	}
	return target{bus: bus, addr: uint16(a)}, o.Err()
}
