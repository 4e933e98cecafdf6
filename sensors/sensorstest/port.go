package sensorstest

import (
	"sync"
	"time"
)

// Port is an in-memory sensors.SerialPort for examples and unit tests: each
// Write is passed to Answer (nil: a silent device), whose reply the next
// Reads return; a Read with nothing to return times out, returning 0 and
// no error after a millisecond, as go.bug.st/serial does. Use a PTY (UART)
// to test a driver against a real terminal.
type Port struct {
	Answer func(req []byte) []byte

	mu      sync.Mutex
	pending []byte
	closed  bool
}

// Read returns what Answer replied, or times out.
func (p *Port) Read(b []byte) (int, error) {
	p.mu.Lock()
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	p.mu.Unlock()
	if n == 0 {
		time.Sleep(time.Millisecond)
	}
	return n, nil
}

// Write passes b to Answer.
func (p *Port) Write(b []byte) (int, error) {
	if p.Answer == nil {
		return len(b), nil
	}
	reply := p.Answer(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = append(p.pending, reply...)
	return len(b), nil
}

// Close marks the port closed.
func (p *Port) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

// Closed reports whether Close was called.
func (p *Port) Closed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// SetReadTimeout does nothing: Reads time out after a millisecond.
func (p *Port) SetReadTimeout(time.Duration) error { return nil }
