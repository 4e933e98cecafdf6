package offline

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/edgegw/edgegw/internal/bootclock"
)

// clock is the time source of a DB. Tests replace it through the unexported
// Options.clock field; the zero value means the real clocks.
type clock struct {
	// now is the wall clock, used only for Entry.Enqueued and file names.
	now func() time.Time
	// boottime is CLOCK_BOOTTIME: time since boot, including suspend, never
	// stepped. TTL ages are differences of it.
	boottime func() time.Duration
	// bootID identifies the current boot (Linux: /proc/sys/kernel/random/boot_id).
	bootID func() (string, error)
}

// withDefaults fills the nil fields with the real clocks.
func (c clock) withDefaults() clock {
	if c.now == nil {
		c.now = time.Now
	}
	if c.boottime == nil {
		c.boottime = bootclock.Since
	}
	if c.bootID == nil {
		c.bootID = bootclock.ReadBootID
	}
	return c
}

// processBootID stands in for the boot id when the kernel does not give one:
// every process start then counts as a new boot, so ages restart from the
// first time a message is seen by this process (never "expire everything").
var processBootID = func() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "process-" + hex.EncodeToString(b)
}()
