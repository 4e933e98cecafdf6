//go:build !linux

package offline

import (
	"errors"
	"time"
)

// bootTime falls back to the process's monotonic clock where CLOCK_BOOTTIME
// does not exist; readBootID then fails so each process start is a new "boot".
func bootTime() time.Duration { return time.Since(processStart) }

// readBootID is only available on Linux.
func readBootID() (string, error) { return "", errors.New("offline: boot id needs Linux") }
