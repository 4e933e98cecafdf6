package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// explainListenError completes an "address already in use" error from the
// broker with the process that holds the port and what to do about it;
// other errors are returned as they are.
func explainListenError(err error) error {
	if !errors.Is(err, syscall.EADDRINUSE) {
		return err
	}
	port := listenPort(err)
	if port == 0 {
		return err
	}
	return fmt.Errorf("%w: %s", err, listenHint(port, portHolder(port), processNamed("mosquitto")))
}

// listenHint says who holds port (holder, "" when /proc does not tell: a
// process of another user, without root) and what to do; mosquitto is a
// running mosquitto's "mosquitto (pid N)", the likely holder then.
func listenHint(port int, holder, mosquitto string) string {
	other := fmt.Sprintf("or give broker.listeners another port (e.g. 127.0.0.1:%d)", port+1)
	disable := "sudo systemctl disable --now mosquitto"
	switch {
	case strings.HasPrefix(holder, "mosquitto "):
		return fmt.Sprintf("port %d is held by %s, likely Debian's mosquitto service: %s, %s", port, holder, disable, other)
	case holder != "":
		return fmt.Sprintf("port %d is held by %s: stop it, %s", port, holder, other)
	case mosquitto != "":
		return fmt.Sprintf("port %d is held by another user's process, probably %s (Debian's mosquitto service): %s, %s",
			port, mosquitto, disable, other)
	default:
		return fmt.Sprintf("port %d is held by another process (see which: sudo ss -ltnp 'sport = :%d'); stop it (Debian's mosquitto service: %s), %s",
			port, port, disable, other)
	}
}

//

// listenPort returns the port of the address a listen error names (0 if none).
func listenPort(err error) int {
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Addr == nil {
		return 0
	}
	_, p, splitErr := net.SplitHostPort(oe.Addr.String())
	if splitErr != nil {
		return 0
	}
	port, _ := strconv.Atoi(p)
	return port
}

// portHolder returns "name (pid N)" for the process with a TCP socket
// listening on port, or "" when /proc does not tell (another user's process
// needs root to be seen).
func portHolder(port int) string {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		listeningInodes(f, port, inodes)
	}
	if len(inodes) == 0 {
		return ""
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		link, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			pid := strings.Split(fd, "/")[2]
			comm, _ := os.ReadFile("/proc/" + pid + "/comm")
			return fmt.Sprintf("%s (pid %s)", strings.TrimSpace(string(comm)), pid)
		}
	}
	return ""
}

// listeningInodes adds the socket inodes of file's (/proc/net/tcp format)
// sockets listening on port to inodes.
func listeningInodes(file string, port int, inodes map[string]bool) {
	f, err := os.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" { // 0A: TCP_LISTEN
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		if p, err := strconv.ParseUint(hexPort, 16, 16); ok && err == nil && int(p) == port {
			inodes[fields[9]] = true
		}
	}
}

// processNamed returns "name (pid N)" for a running process called name
// (/proc/N/comm is readable by every user), or "".
func processNamed(name string) string {
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, c := range comms {
		if b, err := os.ReadFile(c); err == nil && strings.TrimSpace(string(b)) == name {
			return fmt.Sprintf("%s (pid %s)", name, strings.Split(c, "/")[2])
		}
	}
	return ""
}
