package pms5003_test

import (
	"context"
	"fmt"
	"log"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/pms5003"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// A PMS5003 in passive mode. On a board the open function is
// Hardware.Serial(port, frame.Mode9600); here an in-memory port.
func Example() {
	device := &sensorstest.Script{}
	device.Always([]byte{0x42, 0x4D, 0xE2, 0x00, 0x00, 0x01, 0x71}, []byte{ // read, in passive mode
		0x42, 0x4D, 0x00, 0x1C, // header, frame length 28
		0x00, 0x0D, 0x00, 0x15, 0x00, 0x1A, // PM1.0, PM2.5, PM10 (CF=1): 13, 21, 26
		0x00, 0x0C, 0x00, 0x14, 0x00, 0x19, // PM1.0, PM2.5, PM10 (atmospheric): 12, 20, 25 µg/m³
		0x03, 0xE8, 0x03, 0x20, 0x01, 0x2C, 0x00, 0x32, 0x00, 0x0A, 0x00, 0x02, // particles >0.3, 0.5, 1, 2.5, 5, 10 µm per 0.1 L: 1000, 800, 300, 50, 10, 2
		0x97, 0x00, // reserved
		0x03, 0x30, // checksum: the sum of the 30 bytes before it
	})
	port := &sensorstest.Port{Answer: device.Answer}
	dev, err := pms5003.New("/dev/ttyAMA0", func() (sensors.SerialPort, error) { return port, nil }, pms5003.Opts{Mode: "passive"})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Halt()
	readings, err := dev.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range readings {
		fmt.Printf("%s = %.0f %s\n", r.Quantity, r.Value, r.Unit)
	}
	// Output:
	// pm1 = 12 µg/m³
	// pm25 = 20 µg/m³
	// pm10 = 25 µg/m³
	// particles_0_3um = 1000 /0.1L
	// particles_0_5um = 800 /0.1L
	// particles_1um = 300 /0.1L
	// particles_2_5um = 50 /0.1L
	// particles_5um = 10 /0.1L
	// particles_10um = 2 /0.1L
}
