package bh1750_test

import (
	"context"
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors/bh1750"
)

// A BH1750 at 0x23 on a playback bus standing for sensors.Hardware.I2C("1"),
// answering the datasheet's example result.
func Example() {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x23, W: []byte{0x01}},                   // power on
		{Addr: 0x23, W: []byte{0x20}},                   // one-time H-resolution measurement
		{Addr: 0x23, R: []byte{0b10000011, 0b10010000}}, // result 0x8390
	}}
	dev, err := bh1750.New(bus, bh1750.AddrLow, "high")
	if err != nil {
		log.Fatal(err)
	}
	readings, err := dev.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s = %.0f %s\n", readings[0].Quantity, readings[0].Value, readings[0].Unit)
	// Output:
	// illuminance = 28067 lx
}
