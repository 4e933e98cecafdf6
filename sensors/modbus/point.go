package modbus

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Table is one of the four Modbus data tables, each read with its own
// function code.
type Table string

// The tables.
const (
	Holding  Table = "holding"  // holding registers, read with function 3
	Input    Table = "input"    // input registers, function 4
	Coil     Table = "coil"     // coils, function 1
	Discrete Table = "discrete" // discrete inputs, function 2
)

// Tables are the accepted values of Point.Table.
var Tables = []string{string(Holding), string(Input), string(Coil), string(Discrete)}

// bits reports whether t holds bits (coils, discrete inputs) rather than
// 16-bit registers.
func (t Table) bits() bool { return t == Coil || t == Discrete }

// Type is how a point's registers encode its value.
type Type string

// The types. A coil or discrete input is always Bool (0 or 1).
const (
	Uint16  Type = "uint16"
	Int16   Type = "int16"
	Uint32  Type = "uint32"
	Int32   Type = "int32"
	Float32 Type = "float32"
	Uint64  Type = "uint64"
	Int64   Type = "int64"
	Float64 Type = "float64"
	Bool    Type = "bool"
)

// RegisterTypes are the accepted values of Point.Type for registers.
var RegisterTypes = []string{
	string(Uint16), string(Int16), string(Uint32), string(Int32), string(Float32),
	string(Uint64), string(Int64), string(Float64),
}

// Words returns how many 16-bit registers (or bits, for Bool) t spans.
func (t Type) Words() int {
	switch t {
	case Uint32, Int32, Float32:
		return 2
	case Uint64, Int64, Float64:
		return 4
	}
	return 1
}

// Point is one value read from the device and published as a quantity.
type Point struct {
	// Quantity is the topic level the value is published under. Required.
	Quantity string
	// Table is where the value lives. Default Holding.
	Table Table
	// Address is the first register (or bit) on the wire, 0-based: what
	// the 4xxxx/3xxxx convention calls register 40001 is holding 0.
	Address uint16
	// Type is how the registers encode the value; Bool for coils and
	// discrete inputs. Default Uint16 for registers.
	Type Type
	// LowWordFirst says a 32- or 64-bit value comes least significant
	// register first ("CDAB"). Default false: most significant first.
	LowWordFirst bool
	// LittleEndian says each register's two bytes come low byte first
	// ("BADC"). Default false: high byte first, as the protocol sends.
	LittleEndian bool
	// Scale multiplies the decoded value; 0 means 1.
	Scale float64
	// Offset is added after scaling.
	Offset float64
	// Unit is published with the value ("V", "kWh", "°C"); "" for none.
	Unit string
	// Writable says the point is commanded from "<topic>/<quantity>/set"
	// (see Dev.SetQuantity): holding registers and coils only. Default
	// false.
	Writable bool
}

// end returns the address after the point's last register or bit.
func (p *Point) end() int { return int(p.Address) + p.Type.Words() }

// decode turns the point's registers, as they came off the wire (two bytes
// each), into its value, scaled.
func (p *Point) decode(wire []byte) float64 {
	words := make([]byte, 0, 8)
	for i := 0; i < len(wire); i += 2 {
		hi, lo := wire[i], wire[i+1]
		if p.LittleEndian {
			hi, lo = lo, hi
		}
		words = append(words, hi, lo)
	}
	if p.LowWordFirst {
		for i, j := 0, len(words)-2; i < j; i, j = i+2, j-2 {
			words[i], words[i+1], words[j], words[j+1] = words[j], words[j+1], words[i], words[i+1]
		}
	}
	return p.scale(raw(p.Type, words))
}

// scale applies Scale and Offset.
func (p *Point) scale(v float64) float64 {
	if p.Scale != 0 {
		v *= p.Scale
	}
	return v + p.Offset
}

// raw reads a big-endian value of type t from b.
func raw(t Type, b []byte) float64 {
	switch t {
	case Int16:
		return float64(int16(binary.BigEndian.Uint16(b)))
	case Uint32:
		return float64(binary.BigEndian.Uint32(b))
	case Int32:
		return float64(int32(binary.BigEndian.Uint32(b)))
	case Float32:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
	case Uint64:
		return float64(binary.BigEndian.Uint64(b))
	case Int64:
		return float64(int64(binary.BigEndian.Uint64(b)))
	case Float64:
		return math.Float64frombits(binary.BigEndian.Uint64(b))
	}
	return float64(binary.BigEndian.Uint16(b))
}

// String describes the point for errors: "voltage (input 0, float32)".
func (p *Point) String() string {
	return fmt.Sprintf("%s (%s %d, %s)", p.Quantity, p.Table, p.Address, p.Type)
}
