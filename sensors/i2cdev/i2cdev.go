package i2cdev

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"

	"github.com/edgegw/edgegw/sensors"
)

// Errors of Dev.
var (
	// ErrCRC is matched (errors.Is) by a *CRCError: a word whose CRC-8 does
	// not match, i.e. a corrupted transfer. Its value is never used.
	ErrCRC = errors.New("i2cdev: CRC mismatch")
)

// CRCError is a word read with a wrong CRC-8.
type CRCError struct {
	Word     int    // index of the word in the answer, from 0
	Data     uint16 // the word as read
	Got      byte   // the CRC the chip sent
	Computed byte   // the CRC of Data
}

// Error says which word failed and both CRCs.
func (e *CRCError) Error() string {
	return fmt.Sprintf("i2cdev: CRC mismatch in word %d (0x%04x): got 0x%02x, computed 0x%02x", e.Word, e.Data, e.Got, e.Computed)
}

// Is makes errors.Is(err, ErrCRC) true.
func (e *CRCError) Is(target error) bool { return target == ErrCRC }

// Dev is one chip at Addr on Bus.
type Dev struct {
	Bus  i2c.Bus
	Addr uint16
}

// String names the bus and address, e.g. "/dev/i2c-1(0x44)".
func (d Dev) String() string { return fmt.Sprintf("%s(%#x)", d.Bus, d.Addr) }

// Tx writes w and reads r in one transaction, unless ctx is done.
func (d Dev) Tx(ctx context.Context, w, r []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.Bus.Tx(d.Addr, w, r)
}

// Write writes w.
func (d Dev) Write(ctx context.Context, w ...byte) error { return d.Tx(ctx, w, nil) }

// ReadReg16 reads the big-endian 16-bit register reg.
func (d Dev) ReadReg16(ctx context.Context, reg byte) (uint16, error) {
	var b [2]byte
	if err := d.Tx(ctx, []byte{reg}, b[:]); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint16(b[:]), nil
}

// WriteReg16 writes v to the big-endian 16-bit register reg.
func (d Dev) WriteReg16(ctx context.Context, reg byte, v uint16) error {
	return d.Write(ctx, reg, byte(v>>8), byte(v))
}

// Command sends a Sensirion 16-bit command, most significant byte first,
// with args, each followed by its CRC-8.
func (d Dev) Command(ctx context.Context, cmd uint16, args ...uint16) error {
	w := binary.BigEndian.AppendUint16(make([]byte, 0, 2+3*len(args)), cmd)
	for _, a := range args {
		w = appendWord(w, a)
	}
	return d.Tx(ctx, w, nil)
}

// ReadWords reads n Sensirion words (two bytes and a CRC-8 each) in one read
// and checks every CRC: a mismatch is a *CRCError, and no word is returned.
func (d Dev) ReadWords(ctx context.Context, n int) ([]uint16, error) {
	buf := make([]byte, 3*n)
	if err := d.Tx(ctx, nil, buf); err != nil {
		return nil, err
	}
	return Words(buf)
}

// Words decodes b, a whole number of Sensirion words, checking each CRC-8.
func Words(b []byte) ([]uint16, error) {
	if len(b)%3 != 0 {
		return nil, fmt.Errorf("i2cdev: %d bytes are not whole words", len(b))
	}
	words := make([]uint16, 0, len(b)/3)
	for i := 0; i < len(b); i += 3 {
		w := binary.BigEndian.Uint16(b[i:])
		if c := CRC8(b[i : i+2]); c != b[i+2] {
			return nil, &CRCError{Word: i / 3, Data: w, Got: b[i+2], Computed: c}
		}
		words = append(words, w)
	}
	return words, nil
}

// CRC8 is the CRC-8 of Sensirion and Aosong chips: polynomial 0x31, initial
// value 0xFF, no reflection, no final XOR.
func CRC8(b []byte) byte {
	crc := byte(0xFF)
	for _, x := range b {
		crc ^= x
		for range 8 {
			if crc&0x80 != 0 {
				crc = crc<<1 ^ 0x31
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// Sleep waits d, or returns ctx's error when it is done first: the wait for
// a conversion between a command and its read.
func Sleep(ctx context.Context, d time.Duration) error {
	if !sensors.Sleep(ctx, d) {
		return ctx.Err()
	}
	return nil
}

// CtxBus is an i2c.Bus that refuses to start a transaction once Ctx is done.
// A driver built on a periph driver (whose calls take no context) sets Ctx,
// under its sensors.Guard, before each call into periph.
type CtxBus struct {
	Bus i2c.Bus
	Ctx context.Context // nil means context.Background()
}

var _ i2c.Bus = (*CtxBus)(nil)

// String implements i2c.Bus.
func (b *CtxBus) String() string { return b.Bus.String() }

// Tx implements i2c.Bus.
func (b *CtxBus) Tx(addr uint16, w, r []byte) error {
	if b.Ctx != nil {
		if err := b.Ctx.Err(); err != nil {
			return err
		}
	}
	return b.Bus.Tx(addr, w, r)
}

// SetSpeed implements i2c.Bus.
func (b *CtxBus) SetSpeed(f physic.Frequency) error { return b.Bus.SetSpeed(f) }

// Bind runs f with Ctx set to ctx, then resets it: the calls into periph f
// makes stop at their next transaction once ctx is done. The caller
// serialises Bind calls (with a sensors.Guard).
func (b *CtxBus) Bind(ctx context.Context, f func() ([]sensors.Reading, error)) ([]sensors.Reading, error) {
	b.Ctx = ctx
	defer func() { b.Ctx = nil }()
	return f()
}

// Encode returns ws as a Sensirion chip sends them: each word most
// significant byte first, then the CRC-8 of both. Tests build chip answers
// with it.
func Encode(ws ...uint16) []byte {
	var b []byte
	for _, w := range ws {
		b = appendWord(b, w)
	}
	return b
}

//

func appendWord(b []byte, w uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, w)
	return append(b, CRC8(b[len(b)-2:]))
}
