// Command bmxx80smoketest reads a BME280 or BMP280 on bench hardware through
// the gateway's real drivers (sensors/hw and sensors/bmxx80) and prints each
// reading. It is not run in CI.
//
//	bmxx80smoketest -bus 1 -addr 0x76 -chip bme280 -n 5 -interval 1s
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/edgegw/edgegw/sensors/bmxx80"
	"github.com/edgegw/edgegw/sensors/hw"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bmxx80smoketest:", err)
		os.Exit(1)
	}
}

func run() error {
	bus := flag.String("bus", "1", `I²C bus: "1" or "/dev/i2c-1"`)
	addr := flag.String("addr", "0x76", "device address: 0x76 or 0x77")
	chipName := flag.String("chip", "bme280", "bme280 or bmp280")
	n := flag.Int("n", 5, "readings to take")
	interval := flag.Duration("interval", time.Second, "time between readings")
	flag.Parse()

	chip := bmxx80.BME280
	if *chipName == "bmp280" {
		chip = bmxx80.BMP280
	}
	a, err := strconv.ParseUint(*addr, 0, 16)
	if err != nil {
		return fmt.Errorf("bad -addr: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	h := hw.New(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer h.Close()
	b, err := h.I2C(*bus)
	if err != nil {
		return err
	}
	dev, err := bmxx80.New(b, uint16(a), chip)
	if err != nil {
		return err
	}
	defer dev.Halt()
	for i := 0; i < *n && ctx.Err() == nil; i++ {
		start := time.Now()
		readings, err := dev.Sense(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("%s (%v):", dev, time.Since(start).Round(time.Millisecond))
		for _, r := range readings {
			fmt.Printf(" %s=%.2f%s", r.Quantity, r.Value, r.Unit)
		}
		fmt.Println()
		select {
		case <-ctx.Done():
		case <-time.After(*interval):
		}
	}
	return nil
}
