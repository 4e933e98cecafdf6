package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ProcIO is a process's I/O accounting from /proc/<pid>/io (proc(5)),
// summed over its threads.
type ProcIO struct {
	// WriteBytes is what the process caused to be sent to the storage
	// layer: pages it dirtied in files on a block device, counted once per
	// page when dirtied (a 4 KiB page rewritten before writeback counts
	// once). The file system's own journal writes are not included.
	WriteBytes int64 `json:"write_bytes"`
	// CancelledWriteBytes is dirtied data that was never written (the file
	// was truncated or deleted first).
	CancelledWriteBytes int64 `json:"cancelled_write_bytes"`
	// Syscw counts write-like system calls (write, pwrite, writev, …), to
	// any file, socket or pipe.
	Syscw int64 `json:"syscw"`
	// Wchar is the bytes passed to those calls.
	Wchar int64 `json:"wchar"`
}

// ErrNoIOAccounting means /proc/<pid>/io lacks the fields the wear
// scenario needs (a kernel without CONFIG_TASK_IO_ACCOUNTING).
var ErrNoIOAccounting = fmt.Errorf("mqttbench: /proc/<pid>/io has no write_bytes (kernel without task I/O accounting)")

// readProcIO reads /proc/<pid>/io.
func readProcIO(pid int) (ProcIO, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return ProcIO{}, fmt.Errorf("mqttbench: %w", err)
	}
	return parseProcIO(bytes.NewReader(b))
}

// parseProcIO parses the "key: value" lines of /proc/<pid>/io; write_bytes
// and syscw must be present.
func parseProcIO(r io.Reader) (ProcIO, error) {
	var p ProcIO
	fields := map[string]*int64{"write_bytes": &p.WriteBytes, "cancelled_write_bytes": &p.CancelledWriteBytes,
		"syscw": &p.Syscw, "wchar": &p.Wchar}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		dst := fields[key]
		if !ok || dst == nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil {
			return ProcIO{}, fmt.Errorf("mqttbench: /proc io: %s: %w", key, err)
		}
		*dst, seen[key] = n, true
	}
	if err := sc.Err(); err != nil {
		return ProcIO{}, fmt.Errorf("mqttbench: /proc io: %w", err)
	}
	if !seen["write_bytes"] || !seen["syscw"] {
		return ProcIO{}, ErrNoIOAccounting
	}
	return p, nil
}

// Sub returns p − q field by field: the I/O between two readings.
func (p ProcIO) Sub(q ProcIO) ProcIO {
	return ProcIO{WriteBytes: p.WriteBytes - q.WriteBytes, CancelledWriteBytes: p.CancelledWriteBytes - q.CancelledWriteBytes,
		Syscw: p.Syscw - q.Syscw, Wchar: p.Wchar - q.Wchar}
}

// syncCalls are the system calls that force data to the device; strace
// traces exactly these.
const syncCalls = "fsync,fdatasync,sync_file_range,syncfs,msync"

// straceLine matches the start of a traced sync call in `strace -f -ttt`
// output ("1234 1700000000.123456 fdatasync(7) = 0", or the same line
// ending in "<unfinished ...>"; the "<... resumed>" half does not match).
var straceLine = regexp.MustCompile(`^(?:\d+\s+)?(\d+)\.(\d{6})\s+(fsync|fdatasync|sync_file_range|syncfs|msync)\(`)

// countSyncs counts the sync calls in strace output r that started in
// [from, to).
func countSyncs(r io.Reader, from, to time.Time) (int64, error) {
	var n int64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := straceLine.FindSubmatch(sc.Bytes())
		if m == nil {
			continue
		}
		sec, _ := strconv.ParseInt(string(m[1]), 10, 64)
		usec, _ := strconv.ParseInt(string(m[2]), 10, 64)
		t := time.Unix(sec, usec*1000)
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("mqttbench: strace output: %w", err)
	}
	return n, nil
}

// straceArgs is the command line that runs bin with args under strace,
// logging every sync call with its wall-clock time to out. With
// --seccomp-bpf the tracee stops only at those calls, so tracing does not
// slow its other system calls (which would delay acknowledgements and so
// change what is written).
func straceArgs(out, bin string, args []string) []string {
	return append([]string{"-f", "-qq", "--seccomp-bpf", "-ttt", "-e", "trace=" + syncCalls, "-e", "signal=none",
		"-o", out, bin}, args...)
}

// childExec returns the child of process pid that runs bin (the tracee
// of a strace that pid runs; strace forks short-lived test children first),
// waiting up to timeout for it to appear.
func childExec(pid int, bin string, timeout time.Duration) (int, error) {
	if real, err := filepath.EvalSymlinks(bin); err == nil {
		bin = real // what /proc/<pid>/exe shows
	}
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		for _, f := range strings.Fields(string(b)) {
			exe, err := os.Readlink("/proc/" + f + "/exe")
			if err == nil && exe == bin {
				return strconv.Atoi(f)
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("mqttbench: process %d did not start %s within %v", pid, bin, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
