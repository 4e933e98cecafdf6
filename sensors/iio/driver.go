package iio

import (
	"strings"

	"github.com/edgegw/edgegw/sensors"
)

// Driver returns the "iio" driver for a sensors.Registry.
func Driver() sensors.Driver { return sensors.OptsDriver(parse, New, quantities) }

// quantities lists what a sensor with a channels list publishes, for
// announcing it before the device is read; without one the channels are
// learnt from the device (nil).
func quantities(opts Opts) []sensors.Quantity {
	if opts.Channels == nil {
		return nil
	}
	qs := make([]sensors.Quantity, 0, len(opts.Channels))
	for _, id := range opts.Channels {
		c, _ := parseChannel("in_" + id + "_raw")
		name, u := c.quantity(baseName(opts.Device))
		if r, ok := opts.Rename[id]; ok {
			name = r
		}
		qs = append(qs, sensors.Quantity{Name: name, Unit: u.symbol})
	}
	return qs
}

//

// maxRetries bounds the retries option: each may wait RetryDelay.
const maxRetries = 10

// parse reads the driver keys of spec, reporting every bad one with its line.
func parse(spec sensors.Spec) (Opts, error) {
	o := spec.Options
	o.Required("device", spec.Line)
	opts := Opts{
		Device:     o.String("device", ""),
		SysfsRoot:  o.String("sysfs_root", DefaultOpts.SysfsRoot),
		Channels:   o.Strings("channels", nil),
		Retries:    o.Int("retries", DefaultOpts.Retries),
		RetryDelay: o.Duration("retry_delay", DefaultOpts.RetryDelay),
	}
	if err := checkDevice(opts.Device); err != nil && o.Has("device") {
		o.Errorf("device", "%v", trim(err))
	}
	if o.Has("sysfs_root") && opts.SysfsRoot == "" {
		o.Errorf("sysfs_root", "must not be empty")
	}
	if opts.Retries < 0 || opts.Retries > maxRetries {
		o.Errorf("retries", "%d is outside 0…%d", opts.Retries, maxRetries)
	}
	checkChannels(&o, opts.Channels)
	opts.Rename = parseRename(&o)
	return opts, o.Err()
}

// checkChannels records an error for each malformed or repeated id.
func checkChannels(o *sensors.Options, ids []string) {
	seen := map[string]bool{}
	for _, id := range ids {
		switch {
		case !validID(id):
			o.Errorf("channels", "bad channel id %q (want the file name without in_ and _input/_raw: temp, voltage0, concentration_co2)", id)
		case seen[id]:
			o.Errorf("channels", "%q listed twice", id)
		}
		seen[id] = true
	}
}

// parseRename reads the rename map: channel id → quantity name, every
// name valid and used once.
func parseRename(o *sensors.Options) map[string]string {
	if !o.Has("rename") {
		return nil
	}
	m, ok := o.Values["rename"].Value.(map[string]any)
	if !ok {
		o.Errorf("rename", "want a map of channel id to quantity name, like {temp: temperature}, got %v", o.Values["rename"].Value)
		return nil
	}
	out := map[string]string{}
	by := map[string]string{}
	for _, id := range sortedKeys(m) {
		q, ok := m[id].(string)
		switch {
		case !validID(id):
			o.Errorf("rename", "bad channel id %q (want the file name without in_ and _input/_raw: temp, voltage0)", id)
		case !ok:
			o.Errorf("rename", "%s: want a quantity name, got %v", id, m[id])
		case sensors.ValidQuantity(q) != nil:
			o.Errorf("rename", "%s: %v", id, sensors.ValidQuantity(q))
		case by[q] != "":
			o.Errorf("rename", "%s and %s both renamed to %q", by[q], id, q)
		default:
			out[id], by[q] = q, id
		}
	}
	return out
}

// trim drops the package prefix an error message carries, for option
// errors that already say where they stand.
func trim(err error) string { return strings.TrimPrefix(err.Error(), "iio: ") }
