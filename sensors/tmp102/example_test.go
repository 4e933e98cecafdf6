package tmp102_test

import (
	"context"
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors/tmp102"
)

// A TMP102 at 0x48 on a playback bus standing for sensors.Hardware.I2C("1").
func Example() {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x48, W: []byte{0x01}, R: []byte{0x60, 0xA0}}, // configuration: power-up value
		{Addr: 0x48, W: []byte{0x01, 0x60, 0xA0}},            // written back: continuous, 4 Hz
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x19, 0x40}}, // temperature 0x194
	}}
	dev, err := tmp102.New(bus, 0x48)
	if err != nil {
		log.Fatal(err)
	}
	readings, err := dev.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s = %.2f %s\n", readings[0].Quantity, readings[0].Value, readings[0].Unit)
	// Output:
	// temperature = 25.25 °C
}
