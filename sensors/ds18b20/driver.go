package ds18b20

import "github.com/edgegw/edgegw/sensors"

// Driver returns the "ds18b20" driver for a sensors.Registry.
func Driver() sensors.Driver {
	return sensors.DriverFunc(parse, func(opts Opts, _ sensors.Hardware) (sensors.Sensor, error) { return New(&opts) })
}

//

// parse reads the driver keys of spec; errors carry file:line.
func parse(spec sensors.Spec) (Opts, error) {
	o := spec.Options
	opts := Opts{
		SysfsRoot: o.String("sysfs_root", DefaultOpts.SysfsRoot),
		Device:    o.String("device", ""),
	}
	if opts.Device != "" && !deviceID.MatchString(opts.Device) {
		o.Errorf("device", "bad device id %q (want like 28-0316a2794bff)", opts.Device)
	}
	if o.Has("sysfs_root") && opts.SysfsRoot == "" {
		o.Errorf("sysfs_root", "must not be empty")
	}
	return opts, o.Err()
}
