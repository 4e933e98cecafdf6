package modbus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	mb "github.com/simonvetter/modbus"

	"github.com/edgegw/edgegw/sensors"
)

// Errors of SetQuantity.
var (
	// ErrNotWritable means the quantity is not a point marked Writable.
	ErrNotWritable = errors.New("modbus: not a writable point")
	// ErrOutOfRange means the value, once its scale and offset are undone,
	// does not fit the point's type (a coil takes 0 or 1). Nothing was
	// written.
	ErrOutOfRange = errors.New("modbus: value out of range")
)

var _ sensors.QuantitySetter = (*Dev)(nil)

// Writable lists the quantities of the points marked Writable.
func (d *Dev) Writable() []string {
	var qs []string
	for _, p := range d.opts.Points {
		if p.Writable {
			qs = append(qs, p.Quantity)
		}
	}
	return qs
}

// SetQuantity writes value, in the quantity's published units, to its
// point: the scale and offset are undone, integer types are rounded to the
// nearest raw value, and a value outside the type's range (a coil: other
// than 0 and 1) is refused with ErrOutOfRange before anything is sent. A
// coil is written with function 5, one register with function 6, more
// with function 16, in the point's word and byte order. The point is then
// read back and its reading returned. Failures are *RequestError, handled
// as Sense handles them (a failed exchange closes the connection).
func (d *Dev) SetQuantity(ctx context.Context, quantity string, value float64) (sensors.Reading, error) {
	p := d.point(quantity)
	if p == nil || !p.Writable {
		return sensors.Reading{}, fmt.Errorf("%w: %q", ErrNotWritable, quantity)
	}
	wire, err := p.encode(value)
	if err != nil {
		return sensors.Reading{}, err
	}
	if err := d.line.acquire(ctx); err != nil {
		return sensors.Reading{}, err
	}
	defer d.line.release()
	if err := d.connect(ctx); err != nil {
		return sensors.Reading{}, err
	}
	if err := d.write(p, wire); err != nil {
		return sensors.Reading{}, d.requestFailed(fmt.Sprintf("write %s %d", p.Table, p.Address), err)
	}
	r := &request{table: p.Table, start: p.Address, count: uint16(p.Type.Words()), points: []*Point{p}}
	rs, err := d.read(r)
	if err != nil {
		return sensors.Reading{}, d.requestFailed("read back "+r.String(), err)
	}
	return rs[0], nil
}

//

// point returns the point of quantity, nil for none.
func (d *Dev) point(quantity string) *Point {
	for i := range d.opts.Points {
		if d.opts.Points[i].Quantity == quantity {
			return &d.opts.Points[i]
		}
	}
	return nil
}

// write sends the point's new wire bytes (one byte, 0 or 1, for a coil).
func (d *Dev) write(p *Point, wire []byte) error {
	d.writes.Add(1)
	c := d.line.client
	switch {
	case p.Table == Coil:
		return c.WriteCoil(p.Address, wire[0] == 1)
	case len(wire) == 2:
		return c.WriteRegister(p.Address, binary.BigEndian.Uint16(wire)) // the client's default big-endian encoding
	}
	return c.WriteRawBytes(p.Address, wire)
}

// requestFailed wraps err as a *RequestError, counts it, and closes the
// connection after a failed exchange, as Sense does.
func (d *Dev) requestFailed(what string, err error) error {
	if !Exception(err) {
		if d.line.host != "" || !errors.Is(err, mb.ErrRequestTimedOut) {
			d.line.close()
		}
	}
	return &RequestError{Unit: d.opts.UnitID, Request: what, Err: err}
}

// scaleOr1 returns Scale, 1 for 0.
func (p *Point) scaleOr1() float64 {
	if p.Scale == 0 {
		return 1
	}
	return p.Scale
}

// valueRange returns the lowest and highest values, in published units,
// the point's type can hold.
func (p *Point) valueRange() (lo, hi float64) {
	rlo, rhi := rawRange(p.Type)
	lo, hi = p.scale(rlo), p.scale(rhi)
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi
}

// rawRange returns the range of type t's raw values.
func rawRange(t Type) (lo, hi float64) {
	switch t {
	case Bool:
		return 0, 1
	case Int16:
		return math.MinInt16, math.MaxInt16
	case Uint32:
		return 0, math.MaxUint32
	case Int32:
		return math.MinInt32, math.MaxInt32
	case Float32:
		return -math.MaxFloat32, math.MaxFloat32
	case Uint64:
		return 0, math.MaxUint64
	case Int64:
		return math.MinInt64, math.MaxInt64
	case Float64:
		return -math.MaxFloat64, math.MaxFloat64
	}
	return 0, math.MaxUint16
}

// encode returns the wire bytes of value (published units) for the point,
// or ErrOutOfRange; a coil's are one byte, 0 or 1.
func (p *Point) encode(value float64) ([]byte, error) {
	raw := (value - p.Offset) / p.scaleOr1()
	if p.Type != Float32 && p.Type != Float64 && p.Type != Bool {
		raw = math.Round(raw)
	}
	lo, hi := rawRange(p.Type)
	ok := raw >= lo && raw <= hi && !math.IsNaN(raw)
	if p.Type == Bool {
		ok = raw == 0 || raw == 1
	}
	if p.Type == Uint64 || p.Type == Int64 {
		ok = ok && raw < hi // float64(MaxUint64) and float64(MaxInt64) round up past the type
	}
	if !ok {
		vlo, vhi := p.valueRange()
		return nil, fmt.Errorf("%w: %s = %v: %s…%s fits a %s%s", ErrOutOfRange, p.Quantity, value, short(vlo), short(vhi), p.Type, p.scaleText())
	}
	if p.Type == Bool {
		return []byte{byte(raw)}, nil
	}
	return p.wire(bigEndian(p.Type, raw)), nil
}

// short formats v with 10 significant digits: 3276.7, not 3276.7000000000003.
func short(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }

// tidy rounds v to 10 significant digits, as short formats it.
func tidy(v float64) float64 { t, _ := strconv.ParseFloat(short(v), 64); return t }

// scaleText describes a scale and offset for range errors.
func (p *Point) scaleText() string {
	if p.scaleOr1() == 1 && p.Offset == 0 {
		return ""
	}
	return fmt.Sprintf(" with scale %v and offset %v", p.scaleOr1(), p.Offset)
}

// bigEndian encodes raw (in range, whole for integer types) as type t,
// most significant byte first.
func bigEndian(t Type, raw float64) []byte {
	b := make([]byte, 2*t.Words())
	switch t {
	case Int16:
		binary.BigEndian.PutUint16(b, uint16(int16(raw)))
	case Uint32:
		binary.BigEndian.PutUint32(b, uint32(raw))
	case Int32:
		binary.BigEndian.PutUint32(b, uint32(int32(raw)))
	case Float32:
		binary.BigEndian.PutUint32(b, math.Float32bits(float32(raw)))
	case Uint64:
		binary.BigEndian.PutUint64(b, uint64(raw))
	case Int64:
		binary.BigEndian.PutUint64(b, uint64(int64(raw)))
	case Float64:
		binary.BigEndian.PutUint64(b, math.Float64bits(raw))
	default:
		binary.BigEndian.PutUint16(b, uint16(raw))
	}
	return b
}

// wire puts big-endian bytes in the point's word and byte order: the
// inverse of decode's reordering (both swaps are their own inverse).
func (p *Point) wire(be []byte) []byte {
	if p.LowWordFirst {
		for i, j := 0, len(be)-2; i < j; i, j = i+2, j-2 {
			be[i], be[i+1], be[j], be[j+1] = be[j], be[j+1], be[i], be[i+1]
		}
	}
	if p.LittleEndian {
		for i := 0; i < len(be); i += 2 {
			be[i], be[i+1] = be[i+1], be[i]
		}
	}
	return be
}
