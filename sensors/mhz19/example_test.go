package mhz19_test

import (
	"context"
	"fmt"
	"log"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/mhz19"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// An MH-Z19B answering the manual's example. On a board the open function
// is Hardware.Serial(port, frame.Mode9600); here an in-memory port.
func Example() {
	device := &sensorstest.Script{}
	device.Always(
		[]byte{0xFF, 0x01, 0x86, 0x00, 0x00, 0x00, 0x00, 0x00, 0x79}, // read CO₂ concentration
		[]byte{0xFF, 0x86, 0x02, 0x60, 0x47, 0x00, 0x00, 0x00, 0xD1}, // 0x0260 ppm, checksum
	)
	port := &sensorstest.Port{Answer: device.Answer}
	dev := mhz19.New("/dev/ttyAMA0", func() (sensors.SerialPort, error) { return port, nil })
	defer dev.Halt()
	readings, err := dev.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s = %.0f %s\n", readings[0].Quantity, readings[0].Value, readings[0].Unit)
	// Output:
	// co2 = 608 ppm
}
