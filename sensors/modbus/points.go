package modbus

import (
	"errors"
	"fmt"

	"github.com/edgegw/edgegw/sensors"
)

// parsePoints reads the points list: each element a mapping of the point
// keys, checked one by one, quantities unique. Errors name the element's
// key ("points[2].type") and line.
func parsePoints(o *sensors.Options, line int) ([]Point, error) {
	if !o.Has("points") {
		return nil, &sensors.OptionError{File: o.File, Line: line, Key: o.KeyPath("points"),
			Msg: "missing: list the values to read, like [{quantity: voltage, table: input, address: 0, type: float32, unit: V}]"}
	}
	list, ok := o.Values["points"].Value.([]any)
	if !ok || len(list) == 0 {
		o.Errorf("points", "want a list of points, like [{quantity: voltage, table: input, address: 0, type: float32}], got %v", o.Values["points"].Value)
		return nil, nil
	}
	var points []Point
	var errs []error
	by := map[string]string{}
	for i, e := range list {
		sub := fmt.Sprintf("[%d]", i)
		m, ok := e.(map[string]any)
		if !ok {
			errs = append(errs, &sensors.OptionError{File: o.File, Line: o.LineOf("points", sub), Key: o.KeyPath("points" + sub),
				Msg: fmt.Sprintf("want a mapping like {quantity: voltage, address: 0}, got %v", e)})
			continue
		}
		po := o.Element("points", sub, m)
		p := parsePoint(&po, o.LineOf("points", sub))
		if prev, dup := by[p.Quantity]; dup && p.Quantity != "" {
			po.Errorf("quantity", "%q is also the quantity of %s", p.Quantity, prev)
		}
		by[p.Quantity] = "points" + sub
		errs = append(errs, po.Err())
		points = append(points, p)
	}
	return points, errors.Join(errs...)
}

// parsePoint reads one point's keys.
func parsePoint(o *sensors.Options, line int) Point {
	o.Required("quantity", line)
	o.Required("address", line)
	p := Point{
		Quantity: o.String("quantity", ""),
		Table:    Table(o.OneOf("table", string(Holding), Tables...)),
		Scale:    o.Float("scale", 1),
		Offset:   o.Float("offset", 0),
		Unit:     o.String("unit", ""),
	}
	if err := sensors.ValidQuantity(p.Quantity); err != nil && o.Has("quantity") {
		o.Errorf("quantity", "%v", err)
	}
	if p.Scale == 0 {
		o.Errorf("scale", "must not be 0")
	}
	p.Type = pointType(o, p.Table)
	addr := o.Int("address", 0)
	if addr < 0 || addr+p.Type.Words() > 1<<16 {
		o.Errorf("address", "%d is outside 0…%d for a %s", addr, 1<<16-p.Type.Words(), p.Type)
		addr = 0
	}
	p.Address = uint16(addr)
	p.LowWordFirst = o.OneOf("word_order", "high_first", "high_first", "low_first") == "low_first"
	p.LittleEndian = o.OneOf("byte_order", "big", "big", "little") == "little"
	p.Writable = o.Bool("writable", false)
	if p.Writable && p.Table != Holding && p.Table != Coil {
		o.Errorf("writable", "%s points are read-only: only holding registers and coils can be written", p.Table)
	}
	if p.Table.bits() {
		for _, k := range []string{"word_order", "byte_order"} {
			if o.Has(k) {
				o.Errorf(k, "a %s has no registers: %s is for holding and input points", p.Table, k)
			}
		}
	}
	return p
}

// pointType reads type: a register type for holding and input points
// (default uint16), bool (the default) for coils and discrete inputs.
func pointType(o *sensors.Options, t Table) Type {
	if t.bits() {
		ty := Type(o.String("type", string(Bool)))
		if ty != Bool {
			o.Errorf("type", "a %s is a bit: its type is bool, not %q", t, ty)
		}
		return Bool
	}
	return Type(o.OneOf("type", string(Uint16), RegisterTypes...))
}
