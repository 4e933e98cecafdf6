package serial_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/serial"
)

// memPort is a SerialPort over canned bytes; at the end it reports EOF, as
// an unplugged adapter would.
type memPort struct{ io.Reader }

func (memPort) Write(p []byte) (int, error)        { return len(p), nil }
func (memPort) Close() error                       { return nil }
func (memPort) SetReadTimeout(time.Duration) error { return nil }

func Example() {
	gps := "$GPGSV,1,1,00*79\r\n" + // ignored sentence
		"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n"
	opened := false
	open := func() (sensors.SerialPort, error) {
		if opened {
			return nil, errors.New("unplugged")
		}
		opened = true
		return memPort{strings.NewReader(gps)}, nil
	}
	dev, err := serial.New(open, &serial.Opts{Port: "gps0", Format: "nmea"})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	dev.Watch(ctx, func(rs []sensors.Reading) { // returns when ctx is done
		for _, r := range rs {
			fmt.Printf("%s=%v%s\n", r.Quantity, r.Value, r.Unit)
		}
		cancel()
	})
	fmt.Printf("%+v\n", dev.Stats())
	// Output:
	// fix=1
	// satellites=8
	// latitude=48.1173°
	// longitude=11.5166667°
	// altitude=545.4m
	// {Lines:2 Parsed:1 Garbage:0 BadChecksum:0 Ignored:1 Opens:1 PortErrors:0}
}
