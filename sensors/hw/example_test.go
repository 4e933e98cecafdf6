package hw_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"

	"github.com/edgegw/edgegw/sensors/bmxx80"
	"github.com/edgegw/edgegw/sensors/hw"
)

// How cmd/gateway uses the real hardware: one Hardware for every driver,
// closed last, after the pollers have halted their sensors.
func Example() {
	h := hw.New(slog.Default())
	defer h.Close() // closes the shared buses
	if err := h.Init(); err != nil {
		log.Fatal(err)
	}
	bus, err := h.I2C("/dev/i2c-1") // the same handle as h.I2C("1")
	if err != nil {
		log.Fatal(err) // e.g. hw: no such I²C bus: /dev/i2c-1 does not exist (…)
	}
	dev, err := bmxx80.New(bus, bmxx80.AddrSDOLow, bmxx80.BME280)
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Halt()
	readings, err := dev.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(readings)
}
