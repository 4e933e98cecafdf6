package bootclock

import (
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// bootIDPath is where Linux publishes a random id chosen at each boot.
const bootIDPath = "/proc/sys/kernel/random/boot_id"

// Since returns CLOCK_BOOTTIME. Go reads CLOCK_MONOTONIC through the vDSO,
// but CLOCK_BOOTTIME costs a system call, so Since adds Go's monotonic
// clock to the difference between the two (the time spent suspended),
// sampled at most every offsetTTL: right after a resume the value may lag
// by the suspend for that long.
func Since() time.Duration {
	mono := time.Since(processStart)
	if at := offsetAt.Load(); at == 0 || mono-time.Duration(at) > offsetTTL {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
			return mono
		}
		mono = time.Since(processStart)
		offset.Store(int64(time.Duration(ts.Nano()) - mono))
		offsetAt.Store(int64(mono))
	}
	return mono + time.Duration(offset.Load())
}

// offsetTTL is how long a sampled CLOCK_BOOTTIME − monotonic offset is used.
const offsetTTL = 100 * time.Millisecond

// offset is CLOCK_BOOTTIME minus time since processStart, sampled at
// offsetAt (time since processStart, 0 = never).
var offset, offsetAt atomic.Int64

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
