package hdc302x_test

import (
	"context"
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors/hdc302x"
)

// An HDC3022 at 0x44 on a playback bus standing for
// sensors.Hardware.I2C("1"). New waits for the first measurement (1 s).
func Example() {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x44, W: []byte{0x21, 0x30}},                                                // continuous measurement, 1 Hz
		{Addr: 0x44, W: []byte{0xE0, 0x00}, R: []byte{0x66, 0x66, 0x93, 0x80, 0x00, 0xA2}}, // T, CRC, RH, CRC
	}}
	dev, err := hdc302x.New(bus, 0x44)
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
