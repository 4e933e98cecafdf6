package broker

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// scriptConn is a net.Conn whose reads return the given chunks, one per
// Read (an empty chunk is a (0, nil) read), then io.EOF.
type scriptConn struct {
	net.Conn
	chunks [][]byte
}

func (c *scriptConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func (c *scriptConn) SetReadDeadline(time.Time) error { return nil }

func bytesOf(t *testing.T, ps ...packet.Packet) []byte {
	var b []byte
	for _, p := range ps {
		b = append(b, encode(t, p)...)
	}
	return b
}

// split cuts b into pieces of n bytes.
func split(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}

func TestFrameReader_next(t *testing.T) {
	big := &packet.Publish{Topic: "big", Payload: bytes.Repeat([]byte("x"), 3*readBufSize)}
	small := []packet.Packet{&packet.Pingreq{}, &packet.Publish{Topic: "a/b", QoS: 1, PacketID: 7, Payload: []byte("hi")}, &packet.Disconnect{}}
	tests := []struct {
		name    string
		chunks  [][]byte
		max     int
		want    []packet.Packet
		wantErr error
	}{
		{"several packets in one read", [][]byte{bytesOf(t, small...)}, 1024, small, io.EOF},
		{"one byte per read", split(bytesOf(t, small...), 1), 1024, small, io.EOF},
		{"empty reads in between", [][]byte{{0xc0}, {}, {}, {0x00}}, 1024, []packet.Packet{&packet.Pingreq{}}, io.EOF},
		{"packet larger than the pooled buffer", split(bytesOf(t, big, &packet.Pingreq{}), 1000), 1 << 20, []packet.Packet{big, &packet.Pingreq{}}, io.EOF},
		{"end inside a packet", [][]byte{{0x30, 0x05, 0x00}}, 1024, nil, io.ErrUnexpectedEOF},
		{"over the limit, before the body arrives", [][]byte{{0x30, 0xff, 0x7f}}, 1024, nil, packet.ErrTooLarge},
		{"fifth length byte", [][]byte{{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}}, 1 << 30, nil, packet.ErrMalformed},
		{"reserved type", [][]byte{{0xf0, 0x00}}, 1024, nil, packet.ErrMalformed},
		{"endless empty reads", append(make([][]byte, 200), []byte{0xc0, 0x00}), 1024, nil, io.ErrNoProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stats counters
			f := newFrameReader(&scriptConn{chunks: tt.chunks}, tt.max, &stats)
			defer f.release()
			for i, want := range tt.want {
				p, err := f.next()
				if err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				if got, w := encode(t, p), encode(t, want); !bytes.Equal(got, w) {
					t.Fatalf("packet %d = %T, want %T", i, p, want)
				}
			}
			if _, err := f.next(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("then err = %v, want %v", err, tt.wantErr)
			}
			f.release()
			if got := stats.pktIn.Load(); got != uint64(len(tt.want)) {
				t.Errorf("counted %d packets, want %d", got, len(tt.want))
			}
		})
	}
}
