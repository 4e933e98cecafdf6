package aht20_test

import (
	"context"
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors/aht20"
)

// An AHT20 on a playback bus standing for sensors.Hardware.I2C("1").
func Example() {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x38, W: []byte{0x71}, R: []byte{0x18}},                    // status: calibrated
		{Addr: 0x38, W: []byte{0xAC, 0x33, 0x00}},                         // trigger a measurement
		{Addr: 0x38, R: []byte{0x18, 0x80, 0x00, 0x06, 0x00, 0x00, 0x23}}, // S_RH = 0x80000, S_T = 0x60000, CRC
	}}
	dev, err := aht20.New(bus)
	if err != nil {
		log.Fatal(err)
	}
	readings, err := dev.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range readings {
		fmt.Printf("%s = %.2f %s\n", r.Quantity, r.Value, r.Unit)
	}
	// Output:
	// temperature = 25.00 °C
	// humidity = 50.00 %
}
