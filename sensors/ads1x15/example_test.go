package ads1x15_test

import (
	"context"
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors/ads1x15"
)

// An ADS1115 at 0x48 reading AIN0 with a ±4.096 V range, on a playback bus
// standing for sensors.Hardware.I2C("1").
func Example() {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x48, W: []byte{0x01}, R: []byte{0x85, 0x83}}, // Config: reset value
		{Addr: 0x48, W: []byte{0x01, 0xC3, 0x83}},            // start: AIN0, ±4.096 V, single shot, 128 SPS
		{Addr: 0x48, W: []byte{0x01}, R: []byte{0xC3, 0x83}}, // OS 1: done
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x2E, 0xE0}}, // Conversion: 12000
	}}
	dev, err := ads1x15.New(bus, 0x48, ads1x15.ADS1115, ads1x15.Opts{Inputs: []ads1x15.Input{{Channel: 0, Range: 4.096}}})
	if err != nil {
		log.Fatal(err)
	}
	readings, err := dev.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s = %.4f %s\n", readings[0].Quantity, readings[0].Value, readings[0].Unit)
	// Output:
	// ain0 = 1.5000 V
}
