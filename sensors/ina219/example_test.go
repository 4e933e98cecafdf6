package ina219_test

import (
	"context"
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors/ina219"
)

// An INA219 at 0x40 with a 0.1 Ω shunt, on a playback bus standing for
// sensors.Hardware.I2C("1"): 0.5 A at 12 V.
func Example() {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x40, W: []byte{0x05, 0x10, 0x62}},            // calibration 4194
		{Addr: 0x40, W: []byte{0x00, 0x1F, 0xFF}},            // configuration
		{Addr: 0x40, W: []byte{0x01}, R: []byte{0x13, 0x88}}, // shunt: 5000 × 10 µV
		{Addr: 0x40, W: []byte{0x02}, R: []byte{0x5D, 0xC2}}, // bus: 3000 × 4 mV, conversion ready
		{Addr: 0x40, W: []byte{0x04}, R: []byte{0x13, 0xFF}}, // current: 5119 LSBs
		{Addr: 0x40, W: []byte{0x03}, R: []byte{0x0B, 0xFF}}, // power: 3071 LSBs
	}}
	dev, err := ina219.New(bus, 0x40, ina219.Opts{ShuntOhms: 0.1, MaxCurrent: 3.2})
	if err != nil {
		log.Fatal(err)
	}
	readings, err := dev.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range readings {
		fmt.Printf("%s = %.3f %s\n", r.Quantity, r.Value, r.Unit)
	}
	// Output:
	// voltage = 12.000 V
	// current = 0.500 A
	// power = 5.998 W
	// shunt_voltage = 50.000 mV
}
