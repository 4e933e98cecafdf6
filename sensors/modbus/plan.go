package modbus

import (
	"fmt"
	"sort"
)

// The protocol's limits on one read request (Modbus Application Protocol
// Specification V1.1b3, sections 6.1–6.4).
const (
	MaxRegisters = 125  // registers per read of function 3 or 4
	MaxBits      = 2000 // coils or discrete inputs per read of function 1 or 2
)

// request is one read: count registers (or bits) of table from start, and
// the points decoded from the answer.
type request struct {
	table  Table
	start  uint16
	count  uint16
	points []*Point
}

// String describes the request for errors: "holding 0-9", "coil 5".
func (r *request) String() string {
	if r.count == 1 {
		return fmt.Sprintf("%s %d", r.table, r.start)
	}
	return fmt.Sprintf("%s %d-%d", r.table, r.start, int(r.start)+int(r.count)-1)
}

// plan groups points into as few requests as the protocol allows: within
// each table, in address order, a point joins the request before it when
// the request then spans at most MaxRegisters (MaxBits) and the gap between
// them is at most maxGap unused registers (bits). Overlapping points share
// registers. Tables are read in the order holding, input, coil, discrete.
func plan(points []Point, maxGap int) []*request {
	byTable := map[Table][]*Point{}
	for i := range points {
		p := &points[i]
		byTable[p.Table] = append(byTable[p.Table], p)
	}
	var reqs []*request
	for _, t := range []Table{Holding, Input, Coil, Discrete} {
		ps := byTable[t]
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Address < ps[j].Address })
		limit := MaxRegisters
		if t.bits() {
			limit = MaxBits
		}
		var cur *request
		for _, p := range ps {
			end := max(p.end(), cur.endOr(0))
			if cur == nil || int(p.Address)-cur.endOr(0) > maxGap || end-int(cur.start) > limit {
				cur = &request{table: t, start: p.Address}
				reqs = append(reqs, cur)
				end = p.end()
			}
			cur.count = uint16(end - int(cur.start))
			cur.points = append(cur.points, p)
		}
	}
	return reqs
}

// endOr returns the address after r's last register, or def for no request.
func (r *request) endOr(def int) int {
	if r == nil {
		return def
	}
	return int(r.start) + int(r.count)
}
