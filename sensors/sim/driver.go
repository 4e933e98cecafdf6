package sim

import "github.com/edgegw/edgegw/sensors"

// Driver returns the "sim" driver for a sensors.Registry.
func Driver() sensors.Driver { return sensors.OptsDriver(parse, New, quantities) }

// quantities lists the configured quantities with their units.
func quantities(opts Opts) []sensors.Quantity {
	qs := make([]sensors.Quantity, len(opts.Quantities))
	for i, q := range opts.Quantities {
		qs[i] = sensors.Quantity{Name: q, Unit: profiles[q].unit}
	}
	return qs
}

//

// parse reads the driver keys of spec, reporting every bad one with its line.
func parse(spec sensors.Spec) (Opts, error) {
	o := spec.Options
	opts := Opts{
		Quantities: o.Strings("quantities", DefaultOpts.Quantities),
		Waveform:   o.OneOf("waveform", DefaultOpts.Waveform, Waveforms...),
		Period:     o.Duration("period", DefaultOpts.Period),
		Seed:       int64(o.Int("seed", 0)),
	}
	if o.Has("period") && opts.Period <= 0 {
		o.Errorf("period", "must be positive")
	}
	if len(opts.Quantities) == 0 {
		o.Errorf("quantities", "list at least one quantity")
	}
	seen := map[string]bool{}
	for _, q := range opts.Quantities {
		if err := sensors.ValidQuantity(q); err != nil {
			o.Errorf("quantities", "%v", err)
		} else if seen[q] {
			o.Errorf("quantities", "%q listed twice", q)
		}
		seen[q] = true
	}
	// The errors start with file:line, like every config error.
	return opts, o.Err()
}
