package bmxx80_test

import (
	"context"
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors/bmxx80"
)

// A BMP280 at 0x76. On a board the bus comes from sensors.Hardware.I2C("1");
// here a playback of the chip's answers, with the datasheet's example
// calibration and raw values.
func Example() {
	calib := []byte{
		0x70, 0x6B, 0x43, 0x67, 0x18, 0xFC, // dig_T1..T3
		0x7D, 0x8E, 0x43, 0xD6, 0xD0, 0x0B, 0x27, 0x0B, 0x8C, 0x00, // dig_P1..P5
		0xF9, 0xFF, 0x8C, 0x3C, 0xF8, 0xC6, 0x70, 0x17, // dig_P6..P9
		0x00, 0x00, // reserved, dig_H1
	}
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x76, W: []byte{0xD0}, R: []byte{0x58}},                               // chip id: BMP280
		{Addr: 0x76, W: []byte{0xD0}, R: []byte{0x58}},                               // periph checks it too
		{Addr: 0x76, W: []byte{0x88}, R: calib},                                      // calibration
		{Addr: 0x76, W: []byte{0xF4, 0x6C, 0xF5, 0xA0, 0xF4, 0x6C}},                  // configure, asleep
		{Addr: 0x76, W: []byte{0xF4, 0x6D}},                                          // Sense: forced mode
		{Addr: 0x76, W: []byte{0xF3}, R: []byte{0x00}},                               // status: done
		{Addr: 0x76, W: []byte{0xF7}, R: []byte{0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00}}, // data
	}}
	dev, err := bmxx80.New(bus, bmxx80.AddrSDOLow, bmxx80.BMP280)
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
	// temperature = 25.08 °C
	// pressure = 1006.53 hPa
}
