package sensorstest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// UART is a serial device simulated on a pseudo-terminal, reachable at Path,
// a symlink to the PTY (like /dev/serial/by-id/…), so that it can be
// unplugged (the PTY closed and the link removed) and plugged again at the
// same path. Everything the driver writes is recorded; Answer, when set,
// returns what the device sends back for each chunk written.
type UART struct {
	Path string

	t      testing.TB
	answer func(req []byte) []byte

	mu     sync.Mutex
	pty    *PTY
	reqs   [][]byte
	reader sync.WaitGroup
}

// NewUART plugs a new UART in, unplugged when the test ends. answer may be
// nil (a device that only talks).
func NewUART(t testing.TB, answer func(req []byte) []byte) *UART {
	t.Helper()
	u := &UART{Path: filepath.Join(t.TempDir(), "ttyUSB0"), t: t, answer: answer}
	u.Plug()
	t.Cleanup(u.Unplug)
	return u
}

// Plug opens a new PTY at Path.
func (u *UART) Plug() {
	u.t.Helper()
	pty, err := OpenPTY()
	if err != nil {
		u.t.Fatal(err)
	}
	if err := os.Symlink(pty.Path, u.Path); err != nil {
		pty.Close()
		u.t.Fatal(err)
	}
	u.mu.Lock()
	u.pty = pty
	u.mu.Unlock()
	u.reader.Add(1)
	go u.read(pty)
}

// Unplug closes the PTY (the driver's side hangs up) and removes Path.
func (u *UART) Unplug() {
	u.mu.Lock()
	pty := u.pty
	u.pty = nil
	u.mu.Unlock()
	if pty != nil {
		os.Remove(u.Path)
		pty.Close()
	}
	u.reader.Wait()
}

// Write sends b to the driver, as the device would.
func (u *UART) Write(b []byte) {
	u.t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.pty == nil {
		u.t.Fatal("sensorstest: UART written while unplugged")
	}
	if _, err := u.pty.Master.Write(b); err != nil {
		u.t.Fatal(err)
	}
}

// Requests returns what the driver wrote so far, one element per read of
// the PTY.
func (u *UART) Requests() [][]byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([][]byte(nil), u.reqs...)
}

// Count returns how many times req stands in what the driver wrote (a
// request may reach the PTY in pieces).
func (u *UART) Count(req []byte) int {
	return bytes.Count(bytes.Join(u.Requests(), nil), req)
}

//

func (u *UART) read(pty *PTY) {
	defer u.reader.Done()
	buf := make([]byte, 256)
	for {
		n, err := pty.Master.Read(buf)
		if err != nil {
			return
		}
		req := bytes.Clone(buf[:n])
		u.mu.Lock()
		u.reqs = append(u.reqs, req)
		u.mu.Unlock()
		if u.answer == nil {
			continue
		}
		if a := u.answer(req); len(a) > 0 {
			pty.Master.Write(a)
		}
	}
}

// Script is a UART's answers: for each request, the next reply queued for
// it, else its standing reply, else nothing. Its Answer method is a
// NewUART answer function; it reassembles requests that reach the PTY in
// pieces, and skips bytes that start no known request. The zero value
// answers nothing; it is safe for concurrent use.
type Script struct {
	mu       sync.Mutex
	queued   map[string][][]byte
	standing map[string][]byte
	pending  []byte // received, not yet a whole known request
}

// Queue adds replies to req, one used per request, before any standing one.
func (s *Script) Queue(req []byte, replies ...[]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queued == nil {
		s.queued = map[string][][]byte{}
	}
	s.queued[string(req)] = append(s.queued[string(req)], replies...)
}

// Always makes reply the answer to every req once the queued ones are used.
func (s *Script) Always(req, reply []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.standing == nil {
		s.standing = map[string][]byte{}
	}
	s.standing[string(req)] = reply
}

// Answer takes the next bytes the driver wrote and returns the replies to
// the whole requests they complete.
func (s *Script) Answer(chunk []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, chunk...)
	var out []byte
	for len(s.pending) > 0 {
		req, partial := s.match()
		switch {
		case req != "":
			s.pending = s.pending[len(req):]
			out = append(out, s.reply(req)...)
		case partial:
			return out
		default:
			s.pending = s.pending[1:]
		}
	}
	return out
}

//

// match returns the known request pending starts with, or whether pending
// is the start of one.
func (s *Script) match() (req string, partial bool) {
	try := func(r string) bool {
		if strings.HasPrefix(string(s.pending), r) {
			req = r
			return true
		}
		partial = partial || strings.HasPrefix(r, string(s.pending))
		return false
	}
	for r := range s.standing {
		if try(r) {
			return req, false
		}
	}
	for r := range s.queued {
		if try(r) {
			return req, false
		}
	}
	return "", partial
}

func (s *Script) reply(req string) []byte {
	if q := s.queued[req]; len(q) > 0 {
		s.queued[req] = q[1:]
		return q[0]
	}
	return s.standing[req]
}
