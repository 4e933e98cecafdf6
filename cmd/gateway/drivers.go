package main

import (
	"fmt"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/ads1x15"
	"github.com/edgegw/edgegw/sensors/aht20"
	"github.com/edgegw/edgegw/sensors/bh1750"
	"github.com/edgegw/edgegw/sensors/bmxx80"
	"github.com/edgegw/edgegw/sensors/ds18b20"
	"github.com/edgegw/edgegw/sensors/gpio"
	"github.com/edgegw/edgegw/sensors/hdc302x"
	"github.com/edgegw/edgegw/sensors/i2creg"
	"github.com/edgegw/edgegw/sensors/iio"
	"github.com/edgegw/edgegw/sensors/ina219"
	"github.com/edgegw/edgegw/sensors/mcp9808"
	"github.com/edgegw/edgegw/sensors/mhz19"
	"github.com/edgegw/edgegw/sensors/modbus"
	"github.com/edgegw/edgegw/sensors/pms5003"
	"github.com/edgegw/edgegw/sensors/scd4x"
	"github.com/edgegw/edgegw/sensors/serial"
	"github.com/edgegw/edgegw/sensors/sgp30"
	"github.com/edgegw/edgegw/sensors/sht"
	"github.com/edgegw/edgegw/sensors/sim"
	"github.com/edgegw/edgegw/sensors/tmp102"
)

// newRegistry returns the registry of every sensor driver this binary has,
// by the name config files use in `driver:`. It is filled here, explicitly,
// and nowhere else.
func newRegistry() *sensors.Registry {
	r := sensors.NewRegistry()
	for name, d := range map[string]sensors.Driver{
		"sim":          sim.Driver(),
		"bme280":       bmxx80.Driver(bmxx80.BME280),
		"bmp280":       bmxx80.Driver(bmxx80.BMP280),
		"i2c_register": i2creg.Driver(),
		"ds18b20":      ds18b20.Driver(),
		"iio":          iio.Driver(),
		"gpio_in":      gpio.InDriver(),
		"gpio_out":     gpio.OutDriver(),
		"serial":       serial.Driver(),
		"modbus":       modbus.Driver(),
		"aht20":        aht20.Driver(),
		"ads1015":      ads1x15.Driver(ads1x15.ADS1015),
		"ads1115":      ads1x15.Driver(ads1x15.ADS1115),
		"bh1750":       bh1750.Driver(),
		"scd4x":        scd4x.Driver(),
		"ina219":       ina219.Driver(),
		"mcp9808":      mcp9808.Driver(),
		"tmp102":       tmp102.Driver(),
		"hdc302x":      hdc302x.Driver(),
		"sgp30":        sgp30.Driver(),
		"pms5003":      pms5003.Driver(),
		"mhz19":        mhz19.Driver(),
		"sht3x":        sht.Driver(sht.SHT3x),
		"sht4x":        sht.Driver(sht.SHT4x),
	} {
		if err := r.Register(name, d); err != nil {
			panic(fmt.Sprintf("gateway: register sensor driver %q: %v", name, err)) // programmer error at start-up
		}
	}
	return r
}
