package modbus

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	regs := func(n int, typ Type) []Point { // n points of typ, back to back from 0
		ps := make([]Point, n)
		for i := range ps {
			ps[i] = Point{Quantity: fmt.Sprint("p", i), Table: Holding, Type: typ, Address: uint16(i * typ.Words())}
		}
		return ps
	}
	tests := []struct {
		name   string
		points []Point
		maxGap int
		want   string
	}{
		{"adjacent and overlapping", []Point{
			{Table: Holding, Type: Float32, Address: 4}, {Table: Holding, Type: Uint16, Address: 0},
			{Table: Holding, Type: Uint32, Address: 1}, {Table: Holding, Type: Uint16, Address: 2},
			{Table: Holding, Type: Uint16, Address: 3},
		}, 0, "holding 0-5 [0 1 2 3 4]"},
		{"gap", []Point{{Table: Holding, Type: Uint16, Address: 0}, {Table: Holding, Type: Uint16, Address: 3}}, 1,
			"holding 0 [0]|holding 3 [3]"},
		{"gap bridged", []Point{{Table: Holding, Type: Uint16, Address: 0}, {Table: Holding, Type: Uint16, Address: 3}}, 2,
			"holding 0-3 [0 3]"},
		{"tables apart", []Point{
			{Table: Discrete, Type: Bool, Address: 0}, {Table: Coil, Type: Bool, Address: 0}, {Table: Coil, Type: Bool, Address: 1},
			{Table: Input, Type: Uint16, Address: 1}, {Table: Holding, Type: Uint16, Address: 1},
		}, 0, "holding 1 [1]|input 1 [1]|coil 0-1 [0 1]|discrete 0 [0]"},
		{"125 registers", regs(125, Uint16), 0, "holding 0-124 [0 … 124]"},
		{"126 registers", regs(126, Uint16), 0, "holding 0-124 [0 … 124]|holding 125 [125]"},
		{"float32 across the limit", regs(63, Float32), 0, "holding 0-123 [0 … 122]|holding 124-125 [124]"},
		{"2000 coils", append(regs(0, Bool), Point{Table: Coil, Type: Bool, Address: 0}, Point{Table: Coil, Type: Bool, Address: 1999},
			Point{Table: Coil, Type: Bool, Address: 2000}), 2000, "coil 0-1999 [0 1999]|coil 2000 [2000]"},
		{"end of the address space", []Point{{Table: Input, Type: Uint64, Address: 65532}}, 0, "input 65532-65535 [65532]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range plan(tt.points, tt.maxGap) {
				var addrs []string
				for _, p := range r.points {
					addrs = append(addrs, fmt.Sprint(p.Address))
				}
				if len(addrs) > 5 {
					addrs = []string{addrs[0], "…", addrs[len(addrs)-1]}
				}
				got = append(got, r.String()+" ["+strings.Join(addrs, " ")+"]")
			}
			if g := strings.Join(got, "|"); g != tt.want {
				t.Errorf("plan = %s\nwant   %s", g, tt.want)
			}
		})
	}
}

// TestPoint_decode covers the four byte/word orders of the common
// notation: ABCD (big endian), CDAB (low word first), BADC (byte swap) and
// DCBA (both), with 230.5 = 0x43668000 and 0x0102030405060708.
func TestPoint_decode(t *testing.T) {
	tests := []struct {
		typ          Type
		lowWordFirst bool
		littleEndian bool
		wire         []byte
		want         float64
	}{
		{Float32, false, false, []byte{0x43, 0x66, 0x80, 0x00}, 230.5},
		{Float32, true, false, []byte{0x80, 0x00, 0x43, 0x66}, 230.5},
		{Float32, false, true, []byte{0x66, 0x43, 0x00, 0x80}, 230.5},
		{Float32, true, true, []byte{0x00, 0x80, 0x66, 0x43}, 230.5},
		{Uint64, false, false, []byte{1, 2, 3, 4, 5, 6, 7, 8}, 0x0102030405060708},
		{Uint64, true, false, []byte{7, 8, 5, 6, 3, 4, 1, 2}, 0x0102030405060708},
		{Uint64, true, true, []byte{8, 7, 6, 5, 4, 3, 2, 1}, 0x0102030405060708},
		{Int64, false, false, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE}, -2},
		{Float64, false, false, []byte{0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18}, math.Pi},
		{Int32, true, false, []byte{0x1D, 0xC0, 0xFF, 0xFE}, -123456},
		{Uint32, false, false, []byte{0xFF, 0xFF, 0xFF, 0xFF}, math.MaxUint32},
		{Int16, false, false, []byte{0x80, 0x00}, math.MinInt16},
		{Int16, false, true, []byte{0xF6, 0xFF}, -10},
		{Uint16, false, false, []byte{0xFF, 0xF6}, 65526},
	}
	for _, tt := range tests {
		p := Point{Type: tt.typ, LowWordFirst: tt.lowWordFirst, LittleEndian: tt.littleEndian}
		if got := p.decode(tt.wire); got != tt.want {
			t.Errorf("%s low_first=%v little=%v % x = %v, want %v", tt.typ, tt.lowWordFirst, tt.littleEndian, tt.wire, got, tt.want)
		}
	}
	p := Point{Type: Int16, Scale: 0.1, Offset: 5}
	if got := p.decode([]byte{0xFF, 0xF6}); math.Abs(got-4) > 1e-9 {
		t.Errorf("scaled = %v, want -10×0.1+5 = 4", got)
	}
}
