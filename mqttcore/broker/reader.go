package broker

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// frameReader reads control packets from a connection. It cuts packets out
// of its buffer and hands each body to packet.Decode, which copies what it
// keeps, so one buffer serves every packet.
//
// Idle connections are the common case on a gateway, so the buffer comes
// from a pool and, where the connection supports it (TCP on Linux), goes
// back to the pool while the reader waits for the socket to become
// readable: an idle connection holds no read buffer at all.
type frameReader struct {
	v     packet.Version // wire format of the packets read next
	conn  net.Conn
	wait  func() error // blocks until conn is readable; nil: read blocks instead
	buf   []byte       // len(buf) == cap(buf); nil while idle
	r, w  int          // unread bytes are buf[r:w]
	max   int          // largest packet, fixed header included
	idle  time.Duration
	fresh bool // a packet completed since the read deadline was last set
	stats *counters
	rel   *memReleaser // told when a large buffer is given up; may be nil
	pkts  uint64       // packets, PUBLISHes and bytes not yet added to stats
	pubs  uint64
	bytes uint64
}

// Read buffer sizes.
const (
	readBufSize = 8 << 10  // pooled buffer
	growStep    = 64 << 10 // largest first step for a packet that does not fit
)

var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

func newFrameReader(conn net.Conn, maxSize int, stats *counters) *frameReader {
	return &frameReader{v: packet.V311, conn: conn, wait: readableWaiter(conn), max: maxSize, stats: stats}
}

// setKeepAlive sets the read deadline policy after CONNECT: a packet must
// arrive within d of the previous one; 0 disables the deadline.
func (f *frameReader) setKeepAlive(d time.Duration) error {
	f.idle = d
	f.fresh = d > 0
	if d == 0 {
		return f.conn.SetReadDeadline(time.Time{})
	}
	return nil
}

// next returns the next packet. Decode errors come with a nil packet except
// for the CONNECT returned with packet.RefusedProtocolVersion.
func (f *frameReader) next() (packet.Packet, error) {
	for {
		h, hlen, complete, err := f.header()
		if err != nil {
			return nil, err
		}
		total := hlen + h.Remaining
		if complete && f.w-f.r >= total {
			body := f.buf[f.r+hlen : f.r+total]
			f.r += total
			f.pkts++
			if h.Type == packet.PUBLISH {
				f.pubs++
			}
			f.fresh = true
			return f.v.Decode(h, body)
		}
		need := 2 // type byte and the first length byte
		if complete {
			need = total
		} else if f.w-f.r >= 2 {
			need = f.w - f.r + 1
		}
		if err := f.fill(need); err != nil {
			return nil, err
		}
	}
}

// release returns the buffer to the pool and adds pending counts to stats.
func (f *frameReader) release() {
	f.flushStats()
	f.putBuf()
}

//

// header parses the fixed header at buf[r:w]. complete is false when more
// bytes are needed to know the length. The size limit is checked before
// any body is read [MQTT-2.2.3].
func (f *frameReader) header() (h packet.FixedHeader, hlen int, complete bool, err error) {
	b := f.buf[f.r:f.w]
	if len(b) < 2 {
		return h, 0, false, nil
	}
	h.Type, h.Flags = packet.Type(b[0]>>4), b[0]&0x0f
	if (h.Type < packet.CONNECT || h.Type > packet.DISCONNECT) && (h.Type != packet.AUTH || f.v != packet.V5) {
		return h, 0, false, fmt.Errorf("broker: reserved packet type %d: %w", h.Type, packet.ErrMalformed)
	}
	for i := 1; i <= 4; i++ {
		if i >= len(b) {
			return h, 0, false, nil
		}
		h.Remaining |= int(b[i]&0x7f) << (7 * (i - 1))
		if b[i]&0x80 == 0 {
			if total := i + 1 + h.Remaining; total > f.max {
				return h, 0, false, fmt.Errorf("broker: %s of %d bytes exceeds the limit of %d: %w", h.Type, total, f.max, packet.ErrTooLarge)
			}
			return h, i + 1, true, nil
		}
	}
	return h, 0, false, fmt.Errorf("broker: remaining length has a fifth byte: %w", packet.ErrMalformed)
}

// fill reads at least one more byte, making room for need unread bytes.
// With nothing buffered it gives the buffer back and waits for the socket
// first, so that a quiet connection costs no buffer.
func (f *frameReader) fill(need int) error {
	if f.r == f.w {
		f.r, f.w = 0, 0
		f.flushStats() // about to block: publish the counts
		if f.wait != nil || len(f.buf) > readBufSize {
			f.putBuf()
		}
		if f.wait != nil {
			f.armDeadline()
			if err := f.wait(); err != nil {
				return err
			}
		}
	}
	f.reserve(need)
	f.armDeadline()
	for range maxEmptyReads {
		n, err := f.conn.Read(f.buf[f.w:])
		f.w += n
		f.bytes += uint64(n)
		switch {
		case n > 0:
			return nil
		case errors.Is(err, io.EOF) && f.w > f.r:
			return io.ErrUnexpectedEOF
		case err != nil:
			return err
		}
	}
	return io.ErrNoProgress
}

// maxEmptyReads is how many (0, nil) results of Read in a row fill
// tolerates, as bufio does.
const maxEmptyReads = 100

// reserve makes buf able to hold need unread bytes from index r, and at
// least one more byte after w. A packet larger than the pooled buffer gets
// its own buffer, grown as its bytes arrive so that a peer announcing a
// large packet and sending nothing costs little.
func (f *frameReader) reserve(need int) {
	if f.buf == nil {
		f.buf = *readBufs.Get().(*[]byte)
	}
	if f.r > 0 && (need > len(f.buf)-f.r || f.w == len(f.buf)) {
		n := copy(f.buf, f.buf[f.r:f.w])
		f.r, f.w = 0, n
	}
	if need <= len(f.buf) && f.w < len(f.buf) {
		return
	}
	size := min(need, max(2*len(f.buf), growStep))
	if size <= f.w {
		size = f.w + 1
	}
	nb := make([]byte, size)
	copy(nb, f.buf[:f.w])
	recycle(f.buf)
	f.buf = nb
}

// putBuf gives the buffer up; it must hold no unread bytes.
func (f *frameReader) putBuf() {
	f.rel.dropped(len(f.buf))
	recycle(f.buf)
	f.buf, f.r, f.w = nil, 0, 0
}

// recycle returns a pooled buffer to the pool; a larger one is left to the
// garbage collector.
func recycle(b []byte) {
	if len(b) == readBufSize {
		readBufs.Put(&b)
	}
}

// armDeadline sets the keepalive read deadline if a packet completed since
// it was last set: a client must send a packet within 1.5 times its keep
// alive [MQTT-3.1.2-24]. Deadlines use the monotonic clock.
func (f *frameReader) armDeadline() {
	if f.fresh && f.idle > 0 {
		_ = f.conn.SetReadDeadline(time.Now().Add(f.idle))
		f.fresh = false
	}
}

// flushStats adds the pending packet and byte counts to the broker's.
func (f *frameReader) flushStats() {
	if f.pkts != 0 {
		f.stats.pktIn.Add(f.pkts)
		f.pkts = 0
	}
	if f.pubs != 0 {
		f.stats.pubIn.Add(f.pubs)
		f.pubs = 0
	}
	if f.bytes != 0 {
		f.stats.bytesIn.Add(f.bytes)
		f.bytes = 0
	}
}
