//go:build !linux

package bootclock

import (
	"errors"
	"time"
)

// Since falls back to the process's monotonic clock where CLOCK_BOOTTIME
// is not available; BootID then changes with every process.
func Since() time.Duration { return time.Since(processStart) }

func readBootID() (string, error) { return "", errors.New("bootclock: no boot id") }
