package ds18b20_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/edgegw/edgegw/sensors/ds18b20"
)

func Example() {
	// A stand-in for /sys/bus/w1/devices with one probe on an older kernel
	// (w1_slave only).
	root, err := os.MkdirTemp("", "w1")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	probe := filepath.Join(root, "28-0316a2794bff")
	os.Mkdir(probe, 0o755)
	os.WriteFile(filepath.Join(probe, "w1_slave"), []byte(
		"5a 01 4b 46 7f ff 06 10 5f : crc=5f YES\n5a 01 4b 46 7f ff 06 10 5f t=21625\n"), 0o644)

	dev, err := ds18b20.New(&ds18b20.Opts{SysfsRoot: root}) // every 28-* probe
	if err != nil {
		log.Fatal(err)
	}
	readings, err := dev.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range readings {
		fmt.Printf("%s: %.3f %s\n", r.Quantity, r.Value, r.Unit)
	}
	// Output: 28-0316a2794bff: 21.625 °C
}
