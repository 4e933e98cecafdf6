package iio_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/edgegw/edgegw/sensors/iio"
)

func Example() {
	// A stand-in for /sys/bus/iio/devices with a DHT22 on GPIO 4
	// (dtoverlay=dht11,gpiopin=4): the kernel's dht11 driver reports
	// milli-°C and milli-percent.
	root, err := os.MkdirTemp("", "iio")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	dev := filepath.Join(root, "iio:device0")
	os.Mkdir(dev, 0o755)
	for name, v := range map[string]string{"name": "dht11@4", "in_temp_input": "21300", "in_humidityrelative_input": "48700"} {
		os.WriteFile(filepath.Join(dev, name), []byte(v+"\n"), 0o644)
	}

	d, err := iio.New(&iio.Opts{Device: "dht11", SysfsRoot: root, Rename: map[string]string{"humidityrelative": "rh"}})
	if err != nil {
		log.Fatal(err)
	}
	readings, err := d.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range readings {
		fmt.Printf("%s: %.1f %s\n", r.Quantity, r.Value, r.Unit)
	}
	// Output:
	// rh: 48.7 %
	// temperature: 21.3 °C
}
