package mqtttest

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// FreeAddr returns "127.0.0.1:<port>" for a loopback TCP port that was free
// a moment ago, for a server the test starts that must be given its address
// in advance (a child process, a configuration file). Another process may
// take the port before the server binds it: a caller that cannot afford a
// rare failure retries with a new address when the bind fails.
func FreeAddr(t testing.TB) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("mqtttest: pick a port: %v", err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// SyncBuffer is a bytes.Buffer that is safe for concurrent use, for
// collecting the output of a child process whose stdout and stderr are
// copied by separate goroutines while the test reads it. The zero value is
// an empty buffer ready to use.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer. It never returns an error.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns a copy of everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// LastLine returns the last line of log that contains s, or "".
func LastLine(log, s string) string {
	line := ""
	for l := range strings.Lines(log) {
		if strings.Contains(l, s) {
			line = strings.TrimSuffix(l, "\n")
		}
	}
	return line
}
