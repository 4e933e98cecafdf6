package sensorstest

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// PTY is a pseudo-terminal pair: what a test writes to Master, a program
// reading the terminal device at Path receives. Closing Master hangs the
// terminal up, as unplugging a USB serial adapter does.
type PTY struct {
	Master *os.File
	Path   string // "/dev/pts/N"
}

// OpenPTY opens a new pseudo-terminal pair through /dev/ptmx: unlock the
// secondary side (TIOCSPTLCK) and ask its number (TIOCGPTN). The ioctls go
// through x/sys/unix helpers, which size their arguments right on 32-bit
// ARM too.
func OpenPTY() (*PTY, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("sensorstest: open pty: %w", err)
	}
	rc, err := m.SyscallConn()
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("sensorstest: open pty: %w", err)
	}
	var n uint32
	var ioErr error
	err = rc.Control(func(fd uintptr) {
		if ioErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioErr != nil {
			return
		}
		n, ioErr = unix.IoctlGetUint32(int(fd), unix.TIOCGPTN)
	})
	if err = cmpErr(err, ioErr); err != nil {
		m.Close()
		return nil, fmt.Errorf("sensorstest: open pty: %w", err)
	}
	return &PTY{Master: m, Path: fmt.Sprintf("/dev/pts/%d", n)}, nil
}

// Close closes the master side (the secondary side hangs up).
func (p *PTY) Close() error { return p.Master.Close() }

//

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
