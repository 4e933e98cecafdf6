package frame

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/sensors"
)

// port is an in-memory sensors.SerialPort: Read returns the chunks queued
// for it, one per call, then times out (0, nil) like go.bug.st/serial; err,
// when set, fails every call.
type port struct {
	mu     sync.Mutex
	chunks [][]byte
	err    error
	closed bool
	wrote  [][]byte
}

func (p *port) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return 0, p.err
	}
	if len(p.chunks) == 0 {
		time.Sleep(time.Millisecond)
		return 0, nil
	}
	n := copy(b, p.chunks[0])
	if p.chunks[0] = p.chunks[0][n:]; len(p.chunks[0]) == 0 {
		p.chunks = p.chunks[1:]
	}
	return n, nil
}

func (p *port) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wrote = append(p.wrote, append([]byte(nil), b...))
	return len(b), p.err
}

func (p *port) Close() error                       { p.closed = true; return nil }
func (p *port) SetReadTimeout(time.Duration) error { return nil }

// A toy format: 0xAA, a length byte (the whole frame), payload, and a
// checksum byte that is the XOR of the bytes before it.
var toy = Format{
	Header:  []byte{0xAA},
	HeadLen: 2,
	Len:     func(h []byte) (int, error) { return int(h[1]), nil },
	Check: func(f []byte) bool {
		var x byte
		for _, b := range f[:len(f)-1] {
			x ^= b
		}
		return x == f[len(f)-1]
	},
}

func toyFrame(payload ...byte) []byte {
	f := append([]byte{0xAA, byte(len(payload) + 3)}, payload...)
	var x byte
	for _, b := range f {
		x ^= b
	}
	return append(f, x)
}

func all([]byte) bool { return true }

func exchange(c *Conn, req []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	return c.Exchange(ctx, req, all)
}

// The queued chunks arrive after the drain: a port whose first read times
// out, then answers.
func answering(chunks ...[]byte) *port {
	return &port{chunks: append([][]byte{{}}, chunks...)}
}

func TestConn_Exchange(t *testing.T) {
	flood := make([]byte, 3*maxBuffered) // garbage without a header: memory stays bounded
	tests := []struct {
		name   string
		chunks [][]byte
		want   []byte
		err    error
	}{
		{"one frame", [][]byte{toyFrame(1, 2)}, toyFrame(1, 2), nil},
		{"split in bytes", [][]byte{{0xAA}, {0x05}, {1}, {2}, {toyFrame(1, 2)[4]}}, toyFrame(1, 2), nil},
		{"garbage first", [][]byte{{0x00, 0x13, 0xAA}, toyFrame(7)}, toyFrame(7), nil},
		{"flood then frame", [][]byte{flood, toyFrame(9)}, toyFrame(9), nil},
		{"bad checksum", [][]byte{{0xAA, 0x04, 0x01, 0x00}}, nil, ErrChecksum},
		{"false header, long length", [][]byte{{0xAA, 0xFF}, toyFrame(3)}, toyFrame(3), nil}, // 255 bytes announced, a whole frame after it
		{"a frame cut short", [][]byte{{0xAA, 0x09, 0x01}}, nil, ErrTimeout},
		{"nothing", nil, nil, ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := answering(tt.chunks...)
			c := New("toy", func() (sensors.SerialPort, error) { return p, nil }, toy, nil)
			got, err := exchange(c, []byte{0x01})
			if !errors.Is(err, tt.err) || string(got) != string(tt.want) {
				t.Fatalf("Exchange = % x, %v; want % x, %v", got, err, tt.want, tt.err)
			}
			if len(c.buf) > maxBuffered+256 {
				t.Fatalf("%d bytes buffered", len(c.buf))
			}
			if len(p.wrote) != 1 || p.wrote[0][0] != 0x01 || p.closed {
				t.Fatalf("wrote % x, closed %v: want the request once, the port open", p.wrote, p.closed)
			}
		})
	}
}

// A port that fails is closed and opened again by the next Exchange; an
// open that fails is an error naming the port; setup runs on every open.
func TestConn_reopen(t *testing.T) {
	var opens, setups int
	var next *port
	openErr := errors.New("no such device")
	c := New("/dev/ttyUSB7", func() (sensors.SerialPort, error) {
		opens++
		if next == nil {
			return nil, openErr
		}
		return next, nil
	}, toy, func(sensors.SerialPort) error { setups++; return nil })

	if _, err := exchange(c, nil); !errors.Is(err, openErr) || !strings.Contains(err.Error(), "frame: open /dev/ttyUSB7: ") {
		t.Fatalf("Exchange without a port = %v", err)
	}
	first := &port{err: io.EOF}
	next = first
	if _, err := exchange(c, nil); err == nil || !strings.Contains(err.Error(), "port closed (EOF)") || !first.closed {
		t.Fatalf("Exchange on a hung-up port = %v (closed %v)", err, first.closed)
	}
	next = answering(toyFrame(5))
	if got, err := exchange(c, nil); err != nil || string(got) != string(toyFrame(5)) {
		t.Fatalf("Exchange after reopening = % x, %v", got, err)
	}
	if opens != 3 || setups != 2 || c.Stats().Opens != 2 {
		t.Fatalf("%d opens, %d setups, Stats %+v; want 3 tries, 2 setups, 2 opens", opens, setups, c.Stats())
	}
	if err := c.Close(); err != nil || !next.closed {
		t.Fatalf("Close = %v, port closed %v", err, next.closed)
	}
}
