package packet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// ReadPacket reads one control packet from r and decodes it in the MQTT
// 3.1.1 wire format, as [V311.ReadPacket] does.
func ReadPacket(r io.Reader, maxSize int) (Packet, error) { return V311.ReadPacket(r, maxSize) }

// ReadPacket reads one control packet from r and decodes it in the wire
// format of version v (see [Version.Decode] for CONNECT). It reads the
// fixed header a byte at a time and then exactly the body, never more, so it
// can be mixed with other reads of r; for a stream of packets, [Reader] is
// faster.
//
// A Remaining Length above maxSize is refused with [ErrTooLarge] before
// anything is allocated for the body; maxSize ≤ 0 means
// [MaxRemainingLength]. A fifth Remaining Length byte is [ErrMalformed].
// ReadPacket returns io.EOF only when r ends before the first byte, and
// io.ErrUnexpectedEOF when it ends inside a packet. Other read errors are
// returned as they are. Decode errors are those of [Decode], including the
// *Connect returned with [RefusedProtocolVersion].
func (v Version) ReadPacket(r io.Reader, maxSize int) (Packet, error) {
	br, ok := r.(io.ByteReader)
	if !ok {
		br = &byteReader{r: r}
	}
	h, err := readHeader(v, br, maxSize)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r, nil, h.Remaining, h.Remaining)
	if err != nil {
		return nil, err
	}
	return decode(v, h, body, nil, true) // readHeader checked h
}

// Reader reads control packets from a stream through a buffer. It reuses its
// buffers between packets; the packets it returns own their bytes. A Reader
// is not safe for concurrent use.
type Reader struct {
	v       Version
	br      *bufio.Reader
	maxSize int
	buf     []byte // body buffer for packets larger than br's buffer
	topics  topicCache
}

// Reader buffer sizes.
const (
	// readerBufferSize is the size of the bufio buffer; packets whose body
	// fits are decoded straight from it.
	readerBufferSize = 4096
	// keepBufferSize is the largest body buffer a Reader keeps between
	// packets; a larger one, for a rare big packet, is left to the
	// garbage collector.
	keepBufferSize = 64 << 10
	// growStep is the first allocation for a body that does not fit
	// readerBufferSize; after that the buffer doubles only as data
	// arrives, so a peer that announces a large packet and sends nothing
	// costs at most this much.
	growStep = 64 << 10
)

// NewReader returns a Reader that reads packets from r in the MQTT 3.1.1
// wire format and refuses any whose Remaining Length is above maxSize
// (maxSize ≤ 0 means [MaxRemainingLength]).
func NewReader(r io.Reader, maxSize int) *Reader {
	return &Reader{v: V311, br: bufio.NewReaderSize(r, readerBufferSize), maxSize: maxSize}
}

// SetVersion sets the wire format of the packets read next, e.g. [V5] once
// a CONNECT or CONNACK settled it; see [Version.Decode].
func (r *Reader) SetVersion(v Version) { r.v = v }

// Read reads and decodes the next packet. Its errors are those of
// [ReadPacket]. After an error in the body the Reader is at the start of the
// next packet (which lets a server answer CONNACK 0x01 after
// [RefusedProtocolVersion]); after an error in the fixed header, such as
// [ErrTooLarge], the body is left unread. Either way, on a protocol error
// the connection must be closed [MQTT-4.8.0-1].
func (r *Reader) Read() (Packet, error) {
	h, err := readHeader(r.v, r.br, r.maxSize)
	if err != nil {
		return nil, err
	}
	if h.Remaining <= r.br.Size() {
		// Decode in place from the bufio buffer.
		body, err := r.br.Peek(h.Remaining)
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		// readHeader checked h, Peek returned h.Remaining bytes.
		p, err := decode(r.v, h, body, &r.topics, true)
		_, _ = r.br.Discard(h.Remaining) // cannot fail: Peek returned the bytes
		return p, err
	}
	body, err := readBody(r.br, r.buf, h.Remaining, limit(r.maxSize))
	if cap(body) <= keepBufferSize {
		r.buf = body[:0]
	} else {
		r.buf = nil
	}
	if err != nil {
		return nil, err
	}
	return decode(r.v, h, body, &r.topics, true)
}

//

// readHeader reads a fixed header [MQTT-2.2] and checks it before the body is
// read: type and flags (checkHeader), then the size limit.
func readHeader(v Version, br io.ByteReader, maxSize int) (FixedHeader, error) {
	maxSize = limit(maxSize)
	b, err := br.ReadByte()
	if err != nil {
		return FixedHeader{}, err // io.EOF here is a clean end between packets
	}
	h := FixedHeader{Type: Type(b >> 4), Flags: b & 0x0f}
	if h.Type < CONNECT || h.Type > DISCONNECT {
		if err := checkType(v, h.Type); err != nil {
			return h, err
		}
	}
	if h.Remaining, err = readRemaining(v, br); err != nil {
		return h, err
	}
	if h.Remaining > maxSize {
		return h, fmt.Errorf("packet: %s: remaining length %d exceeds limit %d: %w",
			typeName(h.Type), h.Remaining, maxSize, ErrTooLarge)
	}
	return h, checkHeader(v, h)
}

// readRemaining reads the Remaining Length [MQTT-2.2.3]: at most four bytes.
// A non-minimal encoding (e.g. 0x80 0x00 for 0) is accepted in MQTT 3.1.1,
// which does not forbid it, and refused in MQTT 5.0 [MQTT-1.5.5-1].
func readRemaining(v Version, br io.ByteReader) (int, error) {
	n := 0
	for i := range 4 {
		b, err := br.ReadByte()
		if err != nil {
			return 0, unexpectedEOF(err)
		}
		n |= int(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			if b == 0 && i > 0 && v >= V5 {
				return 0, malformed("fixed header", "remaining length of %d bytes is not minimal", i+1)
			}
			return n, nil
		}
	}
	return 0, malformed("fixed header", "remaining length has a fifth byte")
}

// readBody reads n bytes from r into buf, reusing its capacity. A new buffer
// gets a capacity of n rounded up to a power of two, so that it serves the
// next packets of similar size, but never more than limit (≥ n); above
// growStep it starts at growStep and doubles only as data arrives.
func readBody(r io.Reader, buf []byte, n, limit int) ([]byte, error) {
	buf = buf[:0]
	if n > cap(buf) {
		c := growStep
		if n <= growStep {
			c = min(1<<bits.Len(uint(n-1)), limit)
		}
		buf = make([]byte, 0, c)
	}
	for len(buf) < n {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(nb, buf)
			buf = nb
		}
		m, err := io.ReadFull(r, buf[len(buf):min(n, cap(buf))])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, unexpectedEOF(err)
		}
	}
	return buf, nil
}

// limit returns the effective size limit: maxSize, or MaxRemainingLength
// when maxSize is ≤ 0 or above it.
func limit(maxSize int) int {
	if maxSize <= 0 || maxSize > MaxRemainingLength {
		return MaxRemainingLength
	}
	return maxSize
}

// unexpectedEOF turns io.EOF inside a packet into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// byteReader reads single bytes from an io.Reader with no buffering.
type byteReader struct {
	r io.Reader
	b [1]byte
}

// ReadByte implements io.ByteReader.
func (br *byteReader) ReadByte() (byte, error) {
	_, err := io.ReadFull(br.r, br.b[:])
	return br.b[0], err
}
