package sensors

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Registry maps driver names (the config's "driver" key) to Drivers. It is a
// value, not a global: cmd/gateway fills one explicitly. It is safe for
// concurrent use.
type Registry struct {
	mu      sync.RWMutex
	drivers map[string]Driver
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{drivers: map[string]Driver{}}
}

// Register adds a driver under name. It fails for an empty name, a nil Open,
// and a name registered before. A nil Check means the driver takes no options.
func (r *Registry) Register(name string, d Driver) error {
	if name == "" {
		return errors.New("sensors: can't register a driver with no name")
	}
	if d.Open == nil {
		return errors.New("sensors: can't register driver " + strconv.Quote(name) + " with nil Open")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.drivers[name]; ok {
		return errors.New("sensors: can't register driver " + strconv.Quote(name) + " twice")
	}
	r.drivers[name] = d
	return nil
}

// Check validates spec without touching hardware: its driver must be
// registered (the error names spec's file:line and lists the known drivers,
// and matches ErrUnknownDriver), then the driver's own Check runs.
func (r *Registry) Check(spec Spec) error {
	d, err := r.lookup(spec)
	if err != nil {
		return err
	}
	if d.Check == nil {
		opts := spec.Options
		return opts.Err() // every key is unknown to a driver without options
	}
	return d.Check(spec)
}

// Quantities returns what the sensor spec describes publishes, when its
// driver knows that without the device (Driver.Quantities); ok is false
// otherwise, or when spec does not check.
func (r *Registry) Quantities(spec Spec) (qs []Quantity, ok bool) {
	d, err := r.lookup(spec)
	if err != nil || d.Quantities == nil {
		return nil, false
	}
	qs, err = d.Quantities(spec)
	return qs, err == nil
}

// Open builds the sensor spec describes, using hw for buses, pins and ports.
func (r *Registry) Open(spec Spec, hw Hardware) (Sensor, error) {
	d, err := r.lookup(spec)
	if err != nil {
		return nil, err
	}
	s, err := d.Open(spec, hw)
	if err != nil {
		return nil, fmt.Errorf("sensors: open %q: %w", spec.Name, err)
	}
	if s == nil {
		return nil, fmt.Errorf("sensors: open %q: driver %q returned no sensor", spec.Name, spec.Driver)
	}
	return s, nil
}

// Drivers returns the registered driver names, sorted.
func (r *Registry) Drivers() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.drivers))
	for n := range r.drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

//

func (r *Registry) lookup(spec Spec) (Driver, error) {
	r.mu.RLock()
	d, ok := r.drivers[spec.Driver]
	r.mu.RUnlock()
	if ok {
		return d, nil
	}
	known := "none; did you forget to register the drivers?"
	if names := r.Drivers(); len(names) > 0 {
		known = strings.Join(names, ", ")
	}
	return Driver{}, &OptionError{
		File: spec.File,
		Line: spec.Line,
		Key:  spec.Options.KeyPath("driver"),
		Msg:  fmt.Sprintf("sensor %q: unknown driver %q (known drivers: %s)", spec.Name, spec.Driver, known),
		Err:  ErrUnknownDriver,
	}
}

// DriverFunc builds a Driver from a driver's two steps: parse reads and
// checks spec's options (Check runs only this), open makes the sensor from
// what parse returned.
func DriverFunc[O any](parse func(Spec) (O, error), open func(O, Hardware) (Sensor, error)) Driver {
	return Driver{
		Check: func(spec Spec) error {
			_, err := parse(spec)
			return err
		},
		Open: func(spec Spec, hw Hardware) (Sensor, error) {
			o, err := parse(spec)
			if err != nil {
				return nil, err
			}
			return open(o, hw)
		},
	}
}

// OptsDriver is DriverFunc for drivers that need nothing from the Hardware
// (the kernel or the network reaches their device): newSensor builds the
// sensor from the parsed options. quantities, when not nil, lists what a
// sensor publishes from its parsed options, nil when the device tells (see
// Driver.Quantities).
func OptsDriver[O any, S Sensor](parse func(Spec) (O, error), newSensor func(*O) (S, error), quantities func(O) []Quantity) Driver {
	d := DriverFunc(parse, func(o O, _ Hardware) (Sensor, error) {
		s, err := newSensor(&o)
		if err != nil {
			return nil, err
		}
		return s, nil
	})
	if quantities != nil {
		d.Quantities = func(spec Spec) ([]Quantity, error) {
			o, err := parse(spec)
			if err != nil {
				return nil, err
			}
			return quantities(o), nil
		}
	}
	return d
}
