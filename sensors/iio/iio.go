package iio

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/sensors"
)

// Errors of a read. Each is wrapped with the device.
var (
	// ErrNoDevice means no IIO device has the configured name or
	// directory: its kernel driver is not loaded, or the device is gone.
	ErrNoDevice = errors.New("iio: device not found")

	// ErrAmbiguous means several devices have the configured name; select
	// one by directory (iio:deviceN) or give them labels.
	ErrAmbiguous = errors.New("iio: several devices have this name")

	// ErrNoChannel means a channel listed in Opts.Channels does not exist
	// on the device.
	ErrNoChannel = errors.New("iio: no such channel")

	// ErrBadData means a value file held something that is not a number.
	ErrBadData = errors.New("iio: bad data")

	// ErrDuplicate means two channels would publish the same quantity
	// (check Opts.Rename).
	ErrDuplicate = errors.New("iio: two channels publish one quantity")
)

// DeviceError is a failed read of a device found under Dir: "iio: <device>
// (<dir>): <cause>". Match the cause with errors.Is (ErrNoChannel,
// syscall.EIO, …).
type DeviceError struct {
	Device string
	Dir    string // "iio:device0"
	Err    error
}

// Error reads "iio: <device> (<dir>): <cause>".
func (e *DeviceError) Error() string {
	return "iio: " + e.Device + " (" + e.Dir + "): " + strings.TrimPrefix(e.Err.Error(), "iio: ")
}

// Unwrap returns the cause.
func (e *DeviceError) Unwrap() error { return e.Err }

// DefaultRoot is where Linux lists IIO devices.
const DefaultRoot = "/sys/bus/iio/devices"

// Opts select a device and its channels.
type Opts struct {
	// Device is the device's "name" (or "label") file content, "dht11"
	// also matching a device-tree name like "dht11@4"; or its directory
	// name, "iio:device0". Required.
	Device string
	// SysfsRoot is the IIO devices directory; "" means DefaultRoot.
	SysfsRoot string
	// Channels are the channel ids to read ("temp", "voltage0"); nil
	// means every input channel the device has.
	Channels []string
	// Rename maps channel ids to quantity names; other channels get their
	// type's default name (see the package documentation).
	Rename map[string]string
	// Retries is how many more times a read that failed with a transient
	// errno (EIO, ETIMEDOUT, EAGAIN, EBUSY) is tried within one Sense.
	// Negative means none.
	Retries int
	// RetryDelay is the wait between those attempts; 0 means none.
	RetryDelay time.Duration
}

// DefaultOpts are the defaults of every field but Device.
var DefaultOpts = Opts{SysfsRoot: DefaultRoot, Retries: 3, RetryDelay: 500 * time.Millisecond}

// Stats count a device's reads since New.
type Stats struct {
	Senses    uint64 // Sense calls
	Transient uint64 // transient errnos the kernel returned (each retried while attempts remain)
	Failed    uint64 // channel reads that failed for good: attempts used up, or a permanent error
}

// Dev reads one IIO device. Sense and Halt are safe for concurrent use.
type Dev struct {
	opts Opts
	fsys fs.FS // SysfsRoot; tests inject read errors here

	senses, transient, failed atomic.Uint64
}

var _ sensors.Sensor = (*Dev)(nil)

// New returns a reader for the device opts selects. It checks opts but
// touches no file: a device missing now is an error of Sense, so the gateway
// starts and reads the device once it appears.
func New(opts *Opts) (*Dev, error) {
	o := *opts
	if o.SysfsRoot == "" {
		o.SysfsRoot = DefaultRoot
	}
	if err := checkDevice(o.Device); err != nil {
		return nil, err
	}
	for _, id := range append(append([]string(nil), o.Channels...), sortedKeys(o.Rename)...) {
		if !validID(id) {
			return nil, fmt.Errorf("iio: bad channel id %q (want like temp, voltage0, concentration_co2)", id)
		}
	}
	return &Dev{opts: o, fsys: os.DirFS(o.SysfsRoot)}, nil
}

// Sense reads the device's channels. It returns the readings it got
// together with the errors of the channels that failed; ctx is checked
// between reads and during retry delays.
func (d *Dev) Sense(ctx context.Context) ([]sensors.Reading, error) {
	d.senses.Add(1)
	dir, name, err := d.find()
	if err != nil {
		return nil, err
	}
	chans, err := d.channels(dir) // a missing channel: read the others
	var rs []sensors.Reading
	errs := []error{err}
	seen := map[string]string{}
	for _, c := range chans {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := d.read(ctx, dir, name, c)
		if err == nil && seen[r.Quantity] != "" {
			err = fmt.Errorf("%w: %s and %s are both %q", ErrDuplicate, seen[r.Quantity], c.id, r.Quantity)
		}
		if err != nil {
			errs = append(errs, d.wrap(dir, err))
			continue
		}
		seen[r.Quantity] = c.id
		rs = append(rs, r)
	}
	return rs, errors.Join(errs...)
}

// Halt does nothing: the kernel owns the device.
func (d *Dev) Halt() error { return nil }

// Stats returns the read counters.
func (d *Dev) Stats() Stats {
	return Stats{Senses: d.senses.Load(), Transient: d.transient.Load(), Failed: d.failed.Load()}
}

// String names the device for logs.
func (d *Dev) String() string { return "iio(" + d.opts.Device + ")" }

//

func checkDevice(dev string) error {
	switch {
	case dev == "":
		return errors.New("iio: no device given (want its name, like bme680, or iio:device0)")
	case strings.ContainsAny(dev, "/\n") || dev == "." || dev == "..":
		return fmt.Errorf("iio: bad device %q (want its name, like bme680, or iio:device0)", dev)
	}
	return nil
}

// sortedKeys returns m's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// find returns the directory of the configured device and its name.
func (d *Dev) find() (dir, name string, err error) {
	entries, err := fs.ReadDir(d.fsys, ".")
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("%w: %s does not exist; is an IIO driver loaded (dtoverlay=…)?", ErrNoDevice, d.opts.SysfsRoot)
	}
	if err != nil {
		return "", "", fmt.Errorf("iio: %w", err)
	}
	var dirs, names []string
	for _, e := range entries { // symlinks to the device directories
		if !strings.HasPrefix(e.Name(), "iio:device") {
			continue
		}
		n := d.attr(e.Name(), "name")
		if e.Name() == d.opts.Device || d.matches(e.Name(), n) {
			dirs, names = append(dirs, e.Name()), append(names, n)
		}
	}
	switch len(dirs) {
	case 0:
		return "", "", fmt.Errorf("%w: no %q under %s", ErrNoDevice, d.opts.Device, d.opts.SysfsRoot)
	case 1:
		return dirs[0], names[0], nil
	}
	return "", "", fmt.Errorf("%w: %q is %s; select one with device: iio:deviceN", ErrAmbiguous, d.opts.Device, strings.Join(dirs, ", "))
}

// matches reports whether the device in dir, named name, is the one
// configured by name or label.
func (d *Dev) matches(dir, name string) bool {
	want := d.opts.Device
	return name != "" && (name == want || baseName(name) == want) || d.attr(dir, "label") == want
}

// attr returns a device attribute file's content, trimmed; "" when missing.
func (d *Dev) attr(dir, file string) string {
	b, err := fs.ReadFile(d.fsys, path.Join(dir, file))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// channels lists the device's input channels that are selected, sorted by
// id, a processed (_input) file preferred to a raw one. The offset and
// scale files of raw channels are picked from the same listing, so that a
// read opens only files that exist.
func (d *Dev) channels(dir string) ([]channel, error) {
	entries, err := fs.ReadDir(d.fsys, dir)
	if err != nil {
		return nil, d.wrap(dir, err)
	}
	has := make(map[string]bool, len(entries))
	for _, e := range entries {
		has[e.Name()] = true
	}
	byID := map[string]channel{}
	for _, e := range entries {
		c, ok := parseChannel(e.Name())
		if prev, dup := byID[c.id]; ok && (!dup || prev.raw && !c.raw) {
			if c.raw {
				c.offset, c.scale = c.attrFile("offset", has), c.attrFile("scale", has)
			}
			byID[c.id] = c
		}
	}
	if d.opts.Channels == nil {
		out := make([]channel, 0, len(byID))
		for _, c := range byID {
			out = append(out, c)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
		return out, nil
	}
	var out []channel
	var missing []string
	for _, id := range d.opts.Channels {
		if c, ok := byID[id]; ok {
			out = append(out, c)
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return out, d.wrap(dir, fmt.Errorf("%w: %s (the device has %s)", ErrNoChannel, strings.Join(missing, ", "), strings.Join(sortedKeys(byID), ", ")))
	}
	return out, nil
}

// wrap names the device in err.
func (d *Dev) wrap(dir string, err error) error {
	return &DeviceError{Device: d.opts.Device, Dir: dir, Err: err}
}
