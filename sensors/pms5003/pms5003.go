// Package pms5003 is the "pms5003" driver: Plantower PMS5003 and PMS7003
// particulate matter sensors on a UART (9600 8N1), giving PM1.0, PM2.5 and
// PM10 mass concentrations in µg/m³ ("atmospheric environment" values) and
// the particle counts per 0.1 L of air above 0.3, 0.5, 1.0, 2.5, 5.0 and
// 10 µm.
//
// The sensor sends 32-byte frames (Plantower PMS5003 manual, appendix I):
//
//	0x42 0x4D, frame length (2×13+2 = 28), 13 big-endian words, checksum
//
// words 1–3 are PM1.0, PM2.5 and PM10 under "standard particle" (CF=1),
// words 4–6 the same under atmospheric environment (published), words 7–12
// the number of particles beyond 0.3, 0.5, 1.0, 2.5, 5.0 and 10 µm in 0.1 L
// of air (published unless counts is false); the checksum is the 16-bit sum
// of every byte before it. A frame with a wrong checksum is an error, never
// a reading, and is counted (Stats, and the sensor's errors); bytes that do
// not start a frame are skipped (see package frame).
//
// Modes (appendix II), set each time the port is opened:
//
//   - passive (default): the sensor sends a frame only when asked (command
//     0xE2): each Sense asks and reads the answer.
//   - active: the sensor sends a frame every 0.2–2.3 s; each Sense drops
//     what arrived since the last one and waits for the next frame. Give it
//     a timeout of at least 3 s.
//
// The port is opened at the first Sense, not at start-up, and again after
// any failure (adapter unplugged): until it is back, Sense fails and the
// poller retries with backoff.
//
// Config keys (beside the common sensor keys):
//
//	port    required, e.g. /dev/ttyAMA0 or /dev/serial/by-id/…
//	mode    passive (default) or active
//	counts  publish the particle counts (default true)
//
// Quantities: pm1, pm25, pm10 (µg/m³); with counts, particles_0_3um,
// particles_0_5um, particles_1um, particles_2_5um, particles_5um and
// particles_10um (unit "/0.1L": particles beyond that diameter in 0.1 L).
//
// Example:
//
//	sensors:
//	  - {name: outdoor_pm, driver: pms5003, port: /dev/ttyAMA0, interval: 30s}
package pms5003

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/frame"
)

// Modes is what the "mode" key accepts.
var Modes = []string{"passive", "active"}

// Opts configures a Dev.
type Opts struct {
	// Mode is one of Modes; "" means passive.
	Mode string
	// NoCounts leaves the particle counts out of Sense's readings (the
	// "counts: false" option).
	NoCounts bool
}

// Dev is one PMS5003 or PMS7003 on a serial port.
type Dev struct {
	port    string
	passive bool
	counts  bool
	conn    *frame.Conn
	guard   sensors.Guard
}

var _ sensors.Sensor = (*Dev)(nil)

// New returns a Dev that opens its port (named port in errors) with open at
// the first Sense.
func New(port string, open func() (sensors.SerialPort, error), opts Opts) (*Dev, error) {
	if opts.Mode != "" && opts.Mode != "passive" && opts.Mode != "active" {
		return nil, fmt.Errorf("pms5003: unknown mode %q", opts.Mode)
	}
	d := &Dev{port: port, passive: opts.Mode != "active", counts: !opts.NoCounts}
	d.conn = frame.New(port, open, format, d.setMode)
	return d, nil
}

// String names the device for logs.
func (d *Dev) String() string { return "pms5003(" + d.port + ")" }

// Sense reads one frame (asking for it in passive mode) and returns pm1,
// pm25 and pm10 in µg/m³, then the particle counts per 0.1 L (see
// Quantities).
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	rs, err := d.guard.Sense(ctx, func() ([]sensors.Reading, error) {
		var req []byte
		if d.passive {
			req = cmdRead
		}
		f, err := d.conn.Exchange(ctx, req, isData)
		if err != nil {
			return nil, err
		}
		return d.readings(f), nil
	})
	if err != nil {
		return nil, fmt.Errorf("pms5003: %w", err)
	}
	return rs, nil
}

// Halt closes the port. Halt is safe to call twice.
func (d *Dev) Halt() error { return d.guard.Halt(d.conn.Close) }

// Stats returns the frame counters.
func (d *Dev) Stats() frame.Stats { return d.conn.Stats() }

// Driver returns the "pms5003" driver for a sensors.Registry.
func Driver() sensors.Driver {
	return frame.Driver(frame.Device[*Opts]{
		Name:       "pms5003",
		Mode:       frame.Mode9600,
		Options:    options,
		Quantities: func(o *Opts) []sensors.Quantity { return Quantities(*o) },
		New: func(port string, open func() (sensors.SerialPort, error), o *Opts) sensors.Sensor {
			d, _ := New(port, open, *o) // mode checked by options
			return d
		},
	})
}

// Quantities lists what a Dev configured with opts publishes, in Sense's
// order.
func Quantities(opts Opts) []sensors.Quantity {
	qs := []sensors.Quantity{{Name: "pm1", Unit: unit}, {Name: "pm25", Unit: unit}, {Name: "pm10", Unit: unit}}
	if !opts.NoCounts {
		for _, name := range countNames {
			qs = append(qs, sensors.Quantity{Name: name, Unit: countUnit})
		}
	}
	return qs
}

//

const (
	unit      = "µg/m³"
	countUnit = "/0.1L" // particles beyond the diameter in 0.1 L of air
)

// countNames are the quantities of words 7–12, the particle counts.
var countNames = []string{"particles_0_3um", "particles_0_5um", "particles_1um", "particles_2_5um", "particles_5um", "particles_10um"}

// readings decodes a data frame whose checksum was checked.
func (d *Dev) readings(f []byte) []sensors.Reading {
	word := func(i int) float64 { return float64(binary.BigEndian.Uint16(f[4+2*i:])) }
	rs := []sensors.Reading{
		{Quantity: "pm1", Value: word(3), Unit: unit},
		{Quantity: "pm25", Value: word(4), Unit: unit},
		{Quantity: "pm10", Value: word(5), Unit: unit},
	}
	if d.counts {
		for i, name := range countNames {
			rs = append(rs, sensors.Reading{Quantity: name, Value: word(6 + i), Unit: countUnit})
		}
	}
	return rs
}

// activeTimeout is the least read timeout active mode needs: the sensor
// streams a frame every 2.3 s at the slowest.
const activeTimeout = 3 * time.Second

// options reads the mode, which must leave active mode time for a frame,
// and counts.
func options(o *sensors.Options, spec sensors.Spec) *Opts {
	mode := o.OneOf("mode", "passive", Modes...)
	if mode == "active" && spec.Timeout > 0 && spec.Timeout < activeTimeout {
		o.Errorf("mode", "active mode waits up to 2.3 s for a frame: set timeout to %v or more (it is %v)", activeTimeout, spec.Timeout)
	}
	return &Opts{Mode: mode, NoCounts: !o.Bool("counts", true)}
}

// dataLen is the length of a data frame: header, length, 13 words, checksum.
const dataLen = 4 + 2*13 + 2

// Commands (appendix II): 0x42 0x4D, command, two data bytes, checksum.
var (
	cmdRead    = command(0xE2, 0x00)
	cmdPassive = command(0xE1, 0x00)
	cmdActive  = command(0xE1, 0x01)
)

var format = frame.Format{
	Header:  []byte{0x42, 0x4D},
	HeadLen: 4,
	Len: func(head []byte) (int, error) {
		n := int(binary.BigEndian.Uint16(head[2:]))
		if n < 2 || n > 2*16+2 { // data frames say 28, command answers 4
			return 0, fmt.Errorf("frame length %d", n)
		}
		return 4 + n, nil
	},
	Check: func(f []byte) bool {
		return sum(f[:len(f)-2]) == binary.BigEndian.Uint16(f[len(f)-2:])
	},
}

func isData(f []byte) bool { return len(f) == dataLen }

// setMode sends the configured mode's command when the port opens.
func (d *Dev) setMode(p sensors.SerialPort) error {
	cmd := cmdActive
	if d.passive {
		cmd = cmdPassive
	}
	_, err := p.Write(cmd)
	return err
}

func command(cmd byte, data uint16) []byte {
	b := []byte{0x42, 0x4D, cmd, byte(data >> 8), byte(data)}
	return binary.BigEndian.AppendUint16(b, sum(b))
}

func sum(b []byte) uint16 {
	var s uint16
	for _, x := range b {
		s += uint16(x)
	}
	return s
}
