package ads1x15

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"periph.io/x/conn/v3/i2c"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

func (m *Model) chip() i2cdev.Chip[*Opts] {
	return i2cdev.Chip[*Opts]{
		Name:    m.name,
		Addrs:   Addrs,
		Options: m.options,
		Quantities: func(o *Opts) []sensors.Quantity {
			qs := make([]sensors.Quantity, len(o.Inputs))
			for i, in := range o.Inputs {
				qs[i] = sensors.Quantity{Name: in.Name(), Unit: "V"}
			}
			return qs
		},
		New: func(bus i2c.Bus, addr uint16, o *Opts) (sensors.Sensor, error) { return New(bus, addr, m, *o) },
	}
}

// options reads channels and data_rate.
func (m *Model) options(o *sensors.Options, spec sensors.Spec) *Opts {
	opts := &Opts{DataRate: o.Int("data_rate", m.def)}
	if !slices.Contains(m.rates, opts.DataRate) {
		o.Errorf("data_rate", "%d is not a data rate of the %s: want one of %v", opts.DataRate, m.name, m.rates)
	}
	o.Required("channels", spec.Line)
	if !o.Has("channels") {
		return opts
	}
	ch, ok := o.Values["channels"].Value.(map[string]any)
	if !ok || len(ch) == 0 {
		o.Errorf("channels", "want a map of input to full-scale range in volts, like {ain0: 4.096}, got %v", o.Values["channels"].Value)
		return opts
	}
	names := make([]string, 0, len(ch))
	for k := range ch {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		in, ok := parseInput(name)
		if !ok {
			o.Errorf("channels", "%q is not an input: want ain0, ain1, ain2 or ain3 (against GND), or ain0_ain1, ain0_ain3, ain1_ain3 or ain2_ain3 (differential)", name)
			continue
		}
		v, ok := number(ch[name])
		if !ok || rangeIndex(v) < 0 {
			o.Errorf("channels", "%s: %v is not a full-scale range: want one of %s (volts)", name, ch[name], rangeList())
			continue
		}
		in.Range = v
		opts.Inputs = append(opts.Inputs, in)
	}
	return opts
}

// parseInput reads an input's name: ainN, or ainP_ainN for a pair the
// multiplexer has.
func parseInput(name string) (Input, bool) {
	one := func(s string) (int, bool) {
		if len(s) != 4 || !strings.HasPrefix(s, "ain") || s[3] < '0' || s[3] > '3' {
			return 0, false
		}
		return int(s[3] - '0'), true
	}
	plus, minus, diff := strings.Cut(name, "_")
	p, ok := one(plus)
	if !ok {
		return Input{}, false
	}
	in := Input{Channel: p}
	if diff {
		m, ok := one(minus)
		if !ok || m == 0 {
			return Input{}, false
		}
		in.Minus = m
	}
	return in, in.mux() >= 0
}

//

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func rangeList() string {
	s := make([]string, len(Ranges))
	for i, r := range Ranges {
		s[i] = fmt.Sprint(r)
	}
	return strings.Join(s, ", ")
}
