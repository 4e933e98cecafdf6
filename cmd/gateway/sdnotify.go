package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// notifier sends sd_notify(3) datagrams to the socket systemd names in
// $NOTIFY_SOCKET ("READY=1", "WATCHDOG=1", "STATUS=...", "STOPPING=1"). With no
// socket set it does nothing, so the gateway runs the same outside systemd.
type notifier struct {
	addr *net.UnixAddr // nil when not under a notify-aware supervisor
}

// newNotifier reads $NOTIFY_SOCKET. A leading "@" names an abstract socket.
func newNotifier() *notifier {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return &notifier{}
	}
	if strings.HasPrefix(path, "@") {
		path = "\x00" + path[1:]
	}
	return &notifier{addr: &net.UnixAddr{Name: path, Net: "unixgram"}}
}

// enabled reports whether a supervisor listens.
func (n *notifier) enabled() bool { return n.addr != nil }

// notify sends one datagram of newline-separated assignments.
func (n *notifier) notify(state ...string) error {
	if n.addr == nil {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	defer conn.Close()
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte(strings.Join(state, "\n"))); err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	return nil
}

// watchdogInterval returns how often to send WATCHDOG=1: half of
// $WATCHDOG_USEC, and 0 when systemd asked for no watchdog (or asked another
// process, per $WATCHDOG_PID).
func watchdogInterval() time.Duration {
	usec := os.Getenv("WATCHDOG_USEC")
	if usec == "" {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != fmt.Sprint(os.Getpid()) {
		return 0
	}
	var n int64
	if _, err := fmt.Sscan(usec, &n); err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Microsecond / 2
}
