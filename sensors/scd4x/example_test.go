package scd4x_test

import (
	"context"
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/edgegw/edgegw/sensors/scd4x"
)

// An SCD41 on a playback bus standing for sensors.Hardware.I2C("1"),
// answering the datasheet's example measurement. New takes 500 ms (the
// chip's stop_periodic_measurement time).
func Example() {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x62, W: []byte{0x3F, 0x86}}, // stop_periodic_measurement
		{Addr: 0x62, W: []byte{0x36, 0x82}}, // get_serial_number
		{Addr: 0x62, R: []byte{0x12, 0x34, 0x37, 0x56, 0x78, 0x7D, 0x9A, 0xBC, 0xE0}},
		{Addr: 0x62, W: []byte{0x21, 0xB1}},       // start_periodic_measurement
		{Addr: 0x62, W: []byte{0xE4, 0xB8}},       // get_data_ready_status
		{Addr: 0x62, R: []byte{0x80, 0x06, 0x04}}, // ready
		{Addr: 0x62, W: []byte{0xEC, 0x05}},       // read_measurement
		{Addr: 0x62, R: []byte{0x01, 0xF4, 0x33, 0x66, 0x67, 0xA2, 0x5E, 0xB9, 0x3C}},
	}}
	dev, err := scd4x.New(bus, scd4x.Opts{})
	if err != nil {
		log.Fatal(err)
	}
	readings, err := dev.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range readings {
		fmt.Printf("%s = %.1f %s\n", r.Quantity, r.Value, r.Unit)
	}
	// Output:
	// co2 = 500.0 ppm
	// temperature = 25.0 °C
	// humidity = 37.0 %
}
