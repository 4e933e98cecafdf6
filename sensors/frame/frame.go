// Package frame is what the binary serial sensor drivers (pms5003, mhz19)
// share: a port opened on demand and reopened after a failure, and a reader
// that finds checksummed frames in a byte stream.
//
// A Conn opens its port on the first Exchange (9600 8N1 is the caller's
// business: the open function sets the mode), and closes it on any read or
// write error so that the next Exchange opens it again: an unplugged USB
// adapter is an error for as long as it is away, never a crash, and the
// poller's backoff spaces the attempts.
//
// Each Exchange first discards what the port received since the last one
// (stale frames of a sensor that streams, an answer that came too late),
// then writes the request, if any, and reads until a frame the caller wants
// arrives. Bytes before a frame's header are skipped (counted as garbage).
// After a frame whose checksum does not match, the search resumes one byte
// after its header, so that a false header inside garbage cannot hide a
// real frame that follows; when what was read holds no good frame after it,
// Exchange fails with ErrChecksum rather than wait for more. A false header
// announcing more bytes than have come is passed over as soon as a whole,
// good frame follows it.
package frame

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/sensors"
)

// Errors of Exchange.
var (
	// ErrChecksum is a frame whose checksum does not match its bytes.
	ErrChecksum = errors.New("frame: bad checksum")
	// ErrTimeout is no wanted frame before ctx was done.
	ErrTimeout = errors.New("frame: no answer")
)

// Format describes a family of frames.
type Format struct {
	// Header starts every frame.
	Header []byte
	// Len returns a frame's total length from its first HeadLen bytes, or
	// an error when they cannot start a frame (garbage that looked like a
	// header).
	Len     func(head []byte) (int, error)
	HeadLen int
	// Check verifies a whole frame's checksum.
	Check func(frame []byte) bool
}

// Stats count what a Conn read.
type Stats struct {
	Frames      uint64 // frames with a good checksum
	BadChecksum uint64 // frames with a bad one
	Garbage     uint64 // bytes skipped looking for a header
	Opens       uint64 // successful opens of the port
}

// Conn is a serial device spoken to in frames of one Format. It is not safe
// for concurrent use: the poller calls Sense from one goroutine.
type Conn struct {
	open   func() (sensors.SerialPort, error)
	name   string
	format Format
	setup  func(port sensors.SerialPort) error

	port  sensors.SerialPort
	buf   []byte
	stats struct{ frames, badChecksum, garbage, opens atomic.Uint64 }
}

// New returns a Conn that opens its port with open and names it name in
// errors. setup (nil: none) runs after each open, e.g. to switch a sensor
// to passive mode. It opens nothing yet.
func New(name string, open func() (sensors.SerialPort, error), f Format, setup func(sensors.SerialPort) error) *Conn {
	return &Conn{open: open, name: name, format: f, setup: setup}
}

// Exchange discards stale input, writes req (none when nil), and returns
// the next frame for which want is true; frames it is false for are
// skipped. It opens the port when it is closed, and closes it on failure.
func (c *Conn) Exchange(ctx context.Context, req []byte, want func(frame []byte) bool) ([]byte, error) {
	port, err := c.get()
	if err != nil {
		return nil, err
	}
	f, err := c.exchange(ctx, port, req, want)
	if err != nil && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrTimeout) {
		c.Close()
		return nil, fmt.Errorf("frame: %s: %w", c.name, err)
	}
	return f, err
}

// Close closes the port if it is open. Exchange would open it again.
func (c *Conn) Close() error {
	if c.port == nil {
		return nil
	}
	err := c.port.Close()
	c.port, c.buf = nil, c.buf[:0]
	return err
}

// Stats returns a snapshot of the counters.
func (c *Conn) Stats() Stats {
	return Stats{Frames: c.stats.frames.Load(), BadChecksum: c.stats.badChecksum.Load(),
		Garbage: c.stats.garbage.Load(), Opens: c.stats.opens.Load()}
}

//

// readTimeout bounds one Read, hence how soon Exchange notices ctx.
const readTimeout = 50 * time.Millisecond

// maxBuffered bounds a frame's length, hence the bytes kept while looking
// for one: without a header, all but a possible header's first bytes are
// dropped at once.
const maxBuffered = 4096

func (c *Conn) get() (sensors.SerialPort, error) {
	if c.port != nil {
		return c.port, nil
	}
	p, err := c.open()
	if err != nil {
		return nil, fmt.Errorf("frame: open %s: %w", c.name, err)
	}
	if err := p.SetReadTimeout(readTimeout); err != nil {
		p.Close()
		return nil, fmt.Errorf("frame: %s: set read timeout: %w", c.name, err)
	}
	if c.setup != nil {
		if err := c.setup(p); err != nil {
			p.Close()
			return nil, fmt.Errorf("frame: %s: set up: %w", c.name, err)
		}
	}
	c.stats.opens.Add(1)
	c.port, c.buf = p, c.buf[:0]
	return p, nil
}

func (c *Conn) exchange(ctx context.Context, port sensors.SerialPort, req []byte, want func([]byte) bool) ([]byte, error) {
	if err := c.drain(ctx, port); err != nil {
		return nil, err
	}
	if req != nil {
		if _, err := port.Write(req); err != nil {
			return nil, fmt.Errorf("write: %w", err)
		}
	}
	chunk := make([]byte, 256)
	var bad error // a bad checksum: reported unless a good frame follows in what was read
	for {
		f, err := c.next()
		switch {
		case err != nil:
			bad = err
			continue
		case f != nil && want(f):
			return f, nil
		case f != nil:
			continue
		case bad != nil:
			return nil, bad
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w from %s: %w", ErrTimeout, c.name, ctx.Err())
		}
		n, err := port.Read(chunk)
		if err := readErr(n, err); err != nil {
			return nil, err
		}
		c.buf = append(c.buf, chunk[:n]...)
	}
}

// drain reads and drops what the port holds, until a read times out.
func (c *Conn) drain(ctx context.Context, port sensors.SerialPort) error {
	c.buf = c.buf[:0]
	chunk := make([]byte, 256)
	for ctx.Err() == nil {
		n, err := port.Read(chunk)
		if err := readErr(n, err); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}

// readErr turns a Read result into the error that loses the port.
func readErr(n int, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF):
		return errors.New("port closed (EOF)")
	}
	return fmt.Errorf("read: %w", err)
}

// next takes the first frame out of c.buf: (nil, nil) when it needs more
// bytes, ErrChecksum for a bad frame.
func (c *Conn) next() ([]byte, error) {
	h := c.format.Header
	for {
		i := bytes.Index(c.buf, h)
		if i < 0 {
			keep := min(len(c.buf), len(h)-1) // a header cut in two
			c.skip(len(c.buf) - keep)
			return nil, nil
		}
		c.skip(i)
		if len(c.buf) < c.format.HeadLen {
			return nil, nil
		}
		n, err := c.format.Len(c.buf[:c.format.HeadLen])
		if err != nil || n < c.format.HeadLen || n > maxBuffered {
			c.skip(1) // not a header after all
			continue
		}
		if len(c.buf) < n {
			if j := c.laterFrame(); j > 0 {
				c.skip(j) // a false header, with a whole frame after it
				continue
			}
			return nil, nil
		}
		if !c.format.Check(c.buf[:n]) {
			c.stats.badChecksum.Add(1)
			bad := fmt.Errorf("%w from %s: % x", ErrChecksum, c.name, c.buf[:n])
			c.skip(1) // resync one byte after this header
			return nil, bad
		}
		f := bytes.Clone(c.buf[:n])
		c.buf = c.buf[n:]
		c.stats.frames.Add(1)
		return f, nil
	}
}

// laterFrame returns the offset of the first header after the one at the
// start of c.buf that begins a whole frame with a good checksum, or 0.
func (c *Conn) laterFrame() int {
	h := c.format.Header
	for j := 1; j < len(c.buf); j++ {
		k := bytes.Index(c.buf[j:], h)
		if k < 0 {
			return 0
		}
		j += k
		rest := c.buf[j:]
		if len(rest) < c.format.HeadLen {
			return 0
		}
		n, err := c.format.Len(rest[:c.format.HeadLen])
		if err == nil && n >= c.format.HeadLen && n <= len(rest) && c.format.Check(rest[:n]) {
			return j
		}
	}
	return 0
}

// skip drops n bytes of garbage from the front of c.buf.
func (c *Conn) skip(n int) {
	if n <= 0 {
		return
	}
	c.stats.garbage.Add(uint64(n))
	c.buf = c.buf[n:]
}
