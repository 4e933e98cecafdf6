package broker

import (
	"net"
	"syscall"
)

// readableWaiter returns a function that blocks until a TCP or Unix socket
// has data (or EOF, or an error) to read, without reading it and without a
// buffer, honouring the read deadline. It peeks one byte with MSG_PEEK
// inside the runtime's poller, so it parks like a Read. Other connections
// (TLS, WebSocket, net.Pipe) get nil: the reader then blocks in Read.
func readableWaiter(c net.Conn) func() error {
	var rc syscall.RawConn
	var err error
	switch c := c.(type) {
	case *net.TCPConn:
		rc, err = c.SyscallConn()
	case *net.UnixConn:
		rc, err = c.SyscallConn()
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	var peek [1]byte
	ready := func(fd uintptr) bool {
		for {
			_, _, err := syscall.Recvfrom(int(fd), peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			switch err {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // not readable yet: the poller waits
			}
			return true // data, EOF or an error: the next Read reports it
		}
	}
	return func() error { return rc.Read(ready) }
}
