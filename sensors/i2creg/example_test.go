package i2creg_test

import (
	"context"
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors/i2creg"
)

// Read a TMP102-style temperature register: 12 significant bits, left
// aligned in a big-endian 16-bit word, 0.0625 °C per step (so 1/256 °C per
// unit of the whole word).
func Example() {
	// On a board the bus comes from sensors.Hardware.I2C("1"); here a
	// playback of what the chip answers.
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x19, 0x40}}, // register 0: 0x1940
	}}
	d, err := i2creg.New(bus, i2creg.Config{
		Addr: 0x48, Register: 0x00, Format: i2creg.S16BE,
		Scale: 1.0 / 256, Unit: "°C", Quantity: "temperature",
	})
	if err != nil {
		log.Fatal(err)
	}
	readings, err := d.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range readings {
		fmt.Printf("%s = %.4g %s\n", r.Quantity, r.Value, r.Unit)
	}
	// Output:
	// temperature = 25.25 °C
}
