package sim_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/edgegw/edgegw/sensors/sim"
)

func Example() {
	clock := time.Date(2026, 11, 22, 10, 0, 15, 0, time.UTC)
	dev, err := sim.New(&sim.Opts{
		Quantities: []string{"temperature", "humidity", "co2"},
		Waveform:   "sine",
		Period:     time.Minute,
		Seed:       1,
		Now:        func() time.Time { return clock },
	})
	if err != nil {
		log.Fatal(err)
	}
	readings, err := dev.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range readings {
		fmt.Printf("%s %.2f %s\n", r.Quantity, r.Value, r.Unit)
	}
	// Output:
	// temperature 24.29 °C
	// humidity 64.29 %
	// co2 1154.14 ppm
}
