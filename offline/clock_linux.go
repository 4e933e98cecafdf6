package offline

import (
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// bootIDPath is where Linux publishes a random id chosen at each boot.
const bootIDPath = "/proc/sys/kernel/random/boot_id"

// bootTime returns CLOCK_BOOTTIME: monotonic, counts suspend, immune to
// settimeofday and NTP steps. Go reads CLOCK_MONOTONIC through the vDSO, but
// CLOCK_BOOTTIME costs a system call, so bootTime adds Go's monotonic clock
// to the difference between the two (the time spent suspended), which it
// samples at most every bootOffsetTTL. Right after a resume the stamp may lag
// by the suspend for that long.
func bootTime() time.Duration {
	mono := time.Since(processStart)
	if at := bootOffsetAt.Load(); at == 0 || mono-time.Duration(at) > bootOffsetTTL {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
			return mono
		}
		mono = time.Since(processStart)
		bootOffset.Store(int64(time.Duration(ts.Nano()) - mono))
		bootOffsetAt.Store(int64(mono))
	}
	return mono + time.Duration(bootOffset.Load())
}

// bootOffsetTTL is how long a sampled CLOCK_BOOTTIME − monotonic offset is used.
const bootOffsetTTL = 100 * time.Millisecond

// bootOffset is CLOCK_BOOTTIME minus time since processStart, sampled at
// bootOffsetAt (time since processStart, 0 = never).
var bootOffset, bootOffsetAt atomic.Int64

// readBootID returns the kernel's boot id.
func readBootID() (string, error) {
	b, err := os.ReadFile(bootIDPath)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", os.ErrNotExist
	}
	return id, nil
}
