package i2creg

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Format is how the bytes read from a register are decoded.
type Format uint8

// The formats. U and S are unsigned and two's-complement signed integers; BE
// means most significant byte first (as most sensors send), LE least
// significant first; F32 is an IEEE 754 single-precision float.
const (
	U8 Format = iota
	S8
	U16BE
	S16BE
	U16LE
	S16LE
	U32BE
	S32BE
	U32LE
	S32LE
	F32BE
	F32LE
)

var formatNames = [...]string{
	U8: "u8", S8: "s8",
	U16BE: "u16be", S16BE: "s16be", U16LE: "u16le", S16LE: "s16le",
	U32BE: "u32be", S32BE: "s32be", U32LE: "u32le", S32LE: "s32le",
	F32BE: "f32be", F32LE: "f32le",
}

// FormatNames lists the names ParseFormat accepts, in declaration order.
func FormatNames() []string { return formatNames[:] }

// ParseFormat returns the Format named s ("u8", "s16be", …).
func ParseFormat(s string) (Format, error) {
	for f, name := range formatNames {
		if name == s {
			return Format(f), nil
		}
	}
	return 0, fmt.Errorf("i2creg: unknown format %q (want one of %v)", s, formatNames)
}

// String returns the format's config name.
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", f)
}

// Size is the number of bytes the format decodes at most.
func (f Format) Size() int {
	switch f {
	case U8, S8:
		return 1
	case U16BE, S16BE, U16LE, S16LE:
		return 2
	}
	return 4
}

// Signed reports whether the format is a signed integer.
func (f Format) Signed() bool {
	switch f {
	case S8, S16BE, S16LE, S32BE, S32LE:
		return true
	}
	return false
}

// Float reports whether the format is a floating-point number.
func (f Format) Float() bool { return f == F32BE || f == F32LE }

// LittleEndian reports whether the least significant byte comes first.
func (f Format) LittleEndian() bool {
	switch f {
	case U16LE, S16LE, U32LE, S32LE, F32LE:
		return true
	}
	return false
}

// validLength reports whether n bytes can be decoded as f: floats need all
// four bytes, integers 1..Size bytes.
func (f Format) validLength(n int) bool {
	if f.Float() {
		return n == 4
	}
	return n >= 1 && n <= f.Size()
}

//

// decode returns b (whose length validLength accepted) as a number.
func (f Format) decode(b []byte) float64 {
	if f.Float() {
		if f.LittleEndian() {
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
	}
	var u uint64
	for i := range b {
		next := b[i]
		if f.LittleEndian() {
			next = b[len(b)-1-i]
		}
		u = u<<8 | uint64(next)
	}
	if f.Signed() {
		shift := 64 - 8*uint(len(b))
		return float64(int64(u<<shift) >> shift) // sign-extend from len(b)*8 bits
	}
	return float64(u)
}
