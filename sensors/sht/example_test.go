package sht_test

import (
	"context"
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors/sht"
)

// An SHT41 at 0x44. On a board the bus comes from sensors.Hardware.I2C("1");
// here a playback of the chip's answers.
func Example() {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x44, W: []byte{0x89}},                               // read serial number
		{Addr: 0x44, R: []byte{0x12, 0x34, 0x37, 0x56, 0x78, 0x7D}}, // two words, each with its CRC
		{Addr: 0x44, W: []byte{0xFD}},                               // measure, high precision
		{Addr: 0x44, R: []byte{0x6E, 0x2D, 0x73, 0x73, 0x2E, 0x0E}}, // S_T = 0x6E2D, S_RH = 0x732E
	}}
	dev, err := sht.New(bus, 0x44, sht.SHT4x, "high")
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Halt()
	readings, err := dev.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range readings {
		fmt.Printf("%s = %.2f %s\n", r.Quantity, r.Value, r.Unit)
	}
	// Output:
	// temperature = 30.32 °C
	// humidity = 50.24 %
}
