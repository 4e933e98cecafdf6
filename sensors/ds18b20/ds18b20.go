// Package ds18b20 reads DS18B20 1-wire thermometers through the Linux w1
// sysfs interface (the w1-gpio overlay and the w1_therm driver).
//
// Each probe is a directory "<sysfs_root>/28-<serial>". The driver reads its
// "temperature" file (millidegrees Celsius, kernels ≥ 5.10) and falls back to
// "w1_slave", whose first line ends in YES when the CRC matched and whose
// second line carries "t=<millidegrees>". A CRC failure, the power-on reset
// value 85 °C, an all-zero scratchpad (a shorted or unpowered bus) and values
// outside the chip's −55…125 °C are errors, never readings. A probe that
// disappears is an error on every read until its directory comes back.
//
// Config keys (beside the common ones):
//
//	sysfs_root: /sys/bus/w1/devices   # where the w1 devices appear
//	device: 28-0316a2794bff           # one probe, quantity "temperature";
//	                                  # omitted: every 28-* probe, one quantity each, named by its id
package ds18b20

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/edgegw/edgegw/sensors"
)

// Errors of a read. Each is wrapped with the device id.
var (
	// ErrNotPresent means the device's directory is missing: unplugged, or
	// the bus master lost it.
	ErrNotPresent = errors.New("ds18b20: device not present")

	// ErrNoDevices means no 28-* directory exists and none was seen before.
	ErrNoDevices = errors.New("ds18b20: no devices found")

	// ErrCRC means w1_slave reported a CRC mismatch (first line ends in NO).
	ErrCRC = errors.New("ds18b20: CRC mismatch")

	// ErrPowerOnReset means the probe reported 85 °C, its power-on value: it
	// reset or never converted (often a weak supply in parasite mode).
	ErrPowerOnReset = errors.New("ds18b20: power-on reset value 85 °C")

	// ErrBadData means the file held something that is not a valid reading:
	// unparsable, an all-zero scratchpad, or outside −55…125 °C.
	ErrBadData = errors.New("ds18b20: bad data")
)

// ReadError is a failed read of one probe: "ds18b20: <id>: <what>". Match
// the cause with errors.Is (ErrCRC, ErrNotPresent, …).
type ReadError struct {
	Device string
	Err    error
}

// Error reads "ds18b20: <id>: <cause>".
func (e *ReadError) Error() string {
	return "ds18b20: " + e.Device + ": " + strings.TrimPrefix(e.Err.Error(), "ds18b20: ")
}

// Unwrap returns the cause.
func (e *ReadError) Unwrap() error { return e.Err }

// DefaultRoot is where Linux lists 1-wire devices.
const DefaultRoot = "/sys/bus/w1/devices"

// Opts selects the probes.
type Opts struct {
	// SysfsRoot is the w1 devices directory; "" means DefaultRoot.
	SysfsRoot string
	// Device is one probe's id ("28-0316a2794bff"), read as quantity
	// "temperature". "" means every 28-* probe present, each a quantity
	// named by its id.
	Device string
}

// DefaultOpts reads every probe under DefaultRoot.
var DefaultOpts = Opts{SysfsRoot: DefaultRoot}

// Dev reads one or every DS18B20 on the bus. Sense and Halt are safe for
// concurrent use.
type Dev struct {
	root   string
	device string

	mu   sync.Mutex
	seen map[string]bool // probes found in earlier reads (all-probes mode)
}

var _ sensors.Sensor = (*Dev)(nil)

// New returns a reader for the probes opts selects. It checks the device id
// but touches no file: a probe that is missing now is an error of Sense, so
// the gateway starts and the probe is read once it appears.
func New(opts *Opts) (*Dev, error) {
	root := opts.SysfsRoot
	if root == "" {
		root = DefaultRoot
	}
	if opts.Device != "" && !deviceID.MatchString(opts.Device) {
		return nil, fmt.Errorf("ds18b20: bad device id %q (want like 28-0316a2794bff)", opts.Device)
	}
	return &Dev{root: root, device: opts.Device, seen: map[string]bool{}}, nil
}

// Sense reads the probes. With every probe selected, it returns the readings
// it got together with the errors of the probes that failed or vanished.
// Each read takes up to 750 ms (the conversion); ctx is checked between
// probes.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	if d.device != "" {
		c, err := d.read(d.device)
		if err != nil {
			return nil, err
		}
		return []sensors.Reading{{Quantity: "temperature", Value: c, Unit: "°C"}}, nil
	}
	return d.senseAll(ctx)
}

// Halt does nothing: the kernel owns the bus.
func (d *Dev) Halt() error { return nil }

// String names the device for logs.
func (d *Dev) String() string {
	if d.device != "" {
		return "ds18b20(" + d.device + ")"
	}
	return "ds18b20(" + d.root + "/28-*)"
}

//

// deviceID is a w1 slave id: family code, dash, 48-bit serial in hex.
var deviceID = regexp.MustCompile(`^[0-9a-f]{2}-[0-9a-f]{12}$`)

func (d *Dev) senseAll(ctx context.Context) ([]sensors.Reading, error) {
	present, err := d.list()
	if err != nil {
		return nil, err
	}
	var rs []sensors.Reading
	var errs []error
	for _, id := range present {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := d.read(id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rs = append(rs, sensors.Reading{Quantity: id, Value: c, Unit: "°C"})
	}
	errs = append(errs, d.missing(present)...)
	if len(present) == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("%w under %s", ErrNoDevices, d.root)
	}
	return rs, errors.Join(errs...)
}

// list returns the 28-* probes present, sorted, and remembers them.
func (d *Dev) list() ([]string, error) {
	entries, err := os.ReadDir(d.root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ds18b20: %s does not exist; is the w1-gpio overlay loaded?", d.root)
	}
	if err != nil {
		return nil, fmt.Errorf("ds18b20: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "28-") && deviceID.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		d.seen[id] = true
	}
	return ids, nil
}

// missing returns an error for each probe seen before but absent now.
func (d *Dev) missing(present []string) []error {
	here := map[string]bool{}
	for _, id := range present {
		here[id] = true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var gone []string
	for id := range d.seen {
		if !here[id] {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	var errs []error
	for _, id := range gone {
		errs = append(errs, &ReadError{Device: id, Err: fmt.Errorf("%w (removed)", ErrNotPresent)})
	}
	return errs
}

// read returns one probe's temperature in °C.
func (d *Dev) read(id string) (float64, error) {
	dir := filepath.Join(d.root, id)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return 0, &ReadError{Device: id, Err: ErrNotPresent}
	}
	milli, err := readTemperature(filepath.Join(dir, "temperature"))
	if errors.Is(err, os.ErrNotExist) {
		milli, err = readW1Slave(filepath.Join(dir, "w1_slave"))
	}
	if err == nil {
		err = check(milli)
	}
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(dir); errors.Is(serr, os.ErrNotExist) {
			err = ErrNotPresent // removed while we read
		} else {
			err = fmt.Errorf("no temperature or w1_slave attribute (is the w1_therm module loaded?): %w", err)
		}
	}
	if err != nil {
		return 0, &ReadError{Device: id, Err: err}
	}
	return float64(milli) / 1000, nil
}
