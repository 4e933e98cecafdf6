package main

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// errClosed is returned by writes to a connection that is shutting down.
var errClosed = errors.New("mqttbench: connection closed")

// writer coalesces the packets of several goroutines into few large writes:
// callers append encoded packets to a buffer under a mutex, and one flushing
// goroutine (run) swaps the buffer out and writes it to the socket. A caller
// blocks while limit bytes are pending, so a publisher cannot outrun TCP.
type writer struct {
	nc    net.Conn
	limit int
	v     packet.Version // the wire format; 0 is MQTT 3.1.1

	mu      sync.Mutex
	drained sync.Cond // signalled when the buffer was handed to the socket or on close
	buf     []byte    // pending bytes
	spare   []byte    // the buffer run wrote last, reused
	err     error     // first write error or errClosed; sticky
	closing bool      // finish was called: flush, then close the socket

	kick chan struct{} // a token when buf went from empty to non-empty
	done chan struct{} // closed by close
	once sync.Once
}

// newWriter returns a writer for nc that blocks callers while limit bytes are
// pending. maxPacket is the largest packet a caller will append.
func newWriter(nc net.Conn, limit, maxPacket int) *writer {
	w := &writer{
		nc:    nc,
		limit: limit,
		buf:   make([]byte, 0, limit+maxPacket+16),
		spare: make([]byte, 0, limit+maxPacket+16),
		kick:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	w.drained.L = &w.mu
	return w
}

// write encodes p and queues it for the socket.
func (w *writer) write(p packet.Packet) error {
	w.mu.Lock()
	for len(w.buf) >= w.limit && w.err == nil && !w.closing {
		w.drained.Wait()
	}
	if w.err != nil || w.closing {
		err := w.err
		w.mu.Unlock()
		if err == nil {
			err = errClosed
		}
		return err
	}
	wasEmpty := len(w.buf) == 0
	b, err := w.version().Append(w.buf, p)
	w.buf = b
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if wasEmpty {
		w.signal()
	}
	return nil
}

// run writes what callers queue until close, a write error, or (after
// finish) an empty buffer; then it closes the socket. It is the writer's one
// goroutine.
func (w *writer) run() {
	defer w.nc.Close()
	for {
		select {
		case <-w.kick:
		case <-w.done:
			return
		}
		w.mu.Lock()
		out := w.buf
		w.buf, w.spare = w.spare[:0], nil
		closing := w.closing
		w.drained.Broadcast()
		w.mu.Unlock()
		_, err := w.nc.Write(out)
		w.mu.Lock()
		w.spare = out[:0]
		if err != nil && w.err == nil {
			w.err = err
			w.drained.Broadcast()
		}
		w.mu.Unlock()
		if err != nil || closing {
			return
		}
	}
}

// finish queues p (a DISCONNECT, or nil for none), refuses further writes,
// and lets run flush and close the socket, which must happen within timeout.
func (w *writer) finish(p packet.Packet, timeout time.Duration) {
	w.mu.Lock()
	if w.err == nil && !w.closing && p != nil {
		w.buf, _ = w.version().Append(w.buf, p)
	}
	w.closing = true
	w.drained.Broadcast()
	w.mu.Unlock()
	_ = w.nc.SetWriteDeadline(time.Now().Add(timeout))
	w.signal()
}

// close stops run at once and fails pending and future writes.
func (w *writer) close() {
	w.once.Do(func() {
		w.mu.Lock()
		if w.err == nil {
			w.err = errClosed
		}
		w.drained.Broadcast()
		w.mu.Unlock()
		close(w.done)
	})
}

//

// version is the wire format of the packets written.
func (w *writer) version() packet.Version {
	if w.v == 0 {
		return packet.V311
	}
	return w.v
}

// signal hands run a token unless it already has one.
func (w *writer) signal() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}
