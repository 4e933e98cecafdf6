package mcp9808_test

import (
	"context"
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors/mcp9808"
)

// An MCP9808 at 0x18 on a playback bus standing for
// sensors.Hardware.I2C("1").
func Example() {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x18, W: []byte{0x06}, R: []byte{0x00, 0x54}}, // manufacturer id
		{Addr: 0x18, W: []byte{0x07}, R: []byte{0x04, 0x01}}, // device id, revision 1
		{Addr: 0x18, W: []byte{0x08, 0x03}},                  // resolution 0.0625 °C
		{Addr: 0x18, W: []byte{0x01, 0x00, 0x00}},            // continuous conversion
		{Addr: 0x18, W: []byte{0x05}, R: []byte{0x01, 0x94}}, // ambient temperature
	}}
	dev, err := mcp9808.New(bus, 0x18)
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
