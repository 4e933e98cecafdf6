// Package mhz19 is the "mhz19" driver: Winsen MH-Z19, MH-Z19B and MH-Z19C
// NDIR CO₂ sensors on a UART (9600 8N1), in ppm.
//
// Each Sense sends the "read CO₂ concentration" command and reads the
// 9-byte answer (Winsen MH-Z19B manual, "Communication protocol"):
//
//	request  FF 01 86 00 00 00 00 00 79
//	answer   FF 86 HIGH LOW - - - - CHECKSUM      CO₂ = HIGH × 256 + LOW ppm
//
// where the checksum is 0xFF minus the sum of bytes 1 to 7, plus 1. An
// answer with a wrong checksum is an error, never a reading; bytes that do
// not start an answer are skipped (see package frame). The undocumented
// temperature byte is not published.
//
// The port is opened at the first Sense, not at start-up, and again after
// any failure (adapter unplugged): until it is back, Sense fails and the
// poller retries with backoff. The sensor needs about 3 minutes of preheat
// after power-up before its values mean anything.
//
// Config keys (beside the common sensor keys):
//
//	port  required, e.g. /dev/ttyAMA0 or /dev/serial/by-id/…
//
// Example:
//
//	sensors:
//	  - {name: bedroom_co2, driver: mhz19, port: /dev/ttyAMA0, interval: 30s}
package mhz19

import (
	"context"
	"fmt"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/frame"
)

// Dev is one MH-Z19 on a serial port.
type Dev struct {
	port  string
	conn  *frame.Conn
	guard sensors.Guard
}

var _ sensors.Sensor = (*Dev)(nil)

// New returns a Dev that opens its port (named port in errors) with open at
// the first Sense.
func New(port string, open func() (sensors.SerialPort, error)) *Dev {
	return &Dev{port: port, conn: frame.New(port, open, format, nil)}
}

// String names the device for logs.
func (d *Dev) String() string { return "mhz19(" + d.port + ")" }

// Sense asks for the CO₂ concentration and returns it in ppm.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	rs, err := d.guard.Sense(ctx, func() ([]sensors.Reading, error) {
		f, err := d.conn.Exchange(ctx, cmdRead, func([]byte) bool { return true })
		if err != nil {
			return nil, err
		}
		co2 := float64(f[2])*256 + float64(f[3])
		return []sensors.Reading{{Quantity: "co2", Value: co2, Unit: "ppm"}}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("mhz19: %w", err)
	}
	return rs, nil
}

// Halt closes the port. Halt is safe to call twice.
func (d *Dev) Halt() error { return d.guard.Halt(d.conn.Close) }

// Stats returns the frame counters.
func (d *Dev) Stats() frame.Stats { return d.conn.Stats() }

// Driver returns the "mhz19" driver for a sensors.Registry.
func Driver() sensors.Driver {
	return frame.Driver(frame.Device[*struct{}]{
		Name:       "mhz19",
		Mode:       frame.Mode9600,
		Quantities: func(*struct{}) []sensors.Quantity { return []sensors.Quantity{{Name: "co2", Unit: "ppm"}} },
		New: func(port string, open func() (sensors.SerialPort, error), _ *struct{}) sensors.Sensor {
			return New(port, open)
		},
	})
}

//

// cmdRead is "read CO₂ concentration" with its checksum.
var cmdRead = []byte{0xFF, 0x01, 0x86, 0x00, 0x00, 0x00, 0x00, 0x00, 0x79}

var format = frame.Format{
	Header:  []byte{0xFF, 0x86},
	HeadLen: 2,
	Len:     func([]byte) (int, error) { return 9, nil },
	Check:   func(f []byte) bool { return checksum(f) == f[8] },
}

// checksum is 0xFF − (byte 1 + … + byte 7) + 1, modulo 256.
func checksum(f []byte) byte {
	var s byte
	for _, b := range f[1:8] {
		s += b
	}
	return 0xFF - s + 1
}
