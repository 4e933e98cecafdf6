// Package bootclock reads the clock that persisted deadlines are measured
// with: CLOCK_BOOTTIME (time since boot, counting suspend, never stepped)
// and the kernel's boot id, which says whether a stamp taken by an earlier
// process is comparable with the clock now. A board without an RTC boots
// in 1970 and is then stepped by NTP; a countdown kept in boot time is
// immune to that, and one from an earlier boot is recognised as such
// (its owner then knows only what was left when it was written).
//
// The bridge queue's TTL (offline) and the broker's MQTT 5.0 message
// expiry both use it.
package bootclock

import (
	"crypto/rand"
	"encoding/hex"
	"hash/fnv"
	"sync"
	"time"
)

// Stamp is a point on the boot clock of one boot.
type Stamp struct {
	// Boot identifies the boot (a hash of the kernel's boot id).
	Boot uint64
	// Since is the time since that boot.
	Since time.Duration
}

// Now returns the current boot and the time since it.
func Now() Stamp { return Stamp{Boot: BootID(), Since: Since()} }

// Elapsed returns the time from s to now and whether it is known: s was
// taken in this boot. Clock steps do not change it.
func (s Stamp) Elapsed(now Stamp) (time.Duration, bool) {
	if s.Boot != now.Boot {
		return 0, false
	}
	return max(now.Since-s.Since, 0), true
}

// ReadBootID returns the kernel's boot id (Linux:
// /proc/sys/kernel/random/boot_id); an error where there is none.
func ReadBootID() (string, error) { return readBootID() }

// BootID returns a hash of the kernel's boot id; where the kernel has none,
// a value drawn at random when the process started, so that every process
// counts as a new boot (no stamp of an earlier process is trusted).
func BootID() uint64 {
	bootOnce.Do(func() {
		id, err := ReadBootID()
		if err != nil {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			id = "process-" + hex.EncodeToString(b)
		}
		h := fnv.New64a()
		h.Write([]byte(id))
		bootHash = h.Sum64()
	})
	return bootHash
}

//

var (
	bootOnce sync.Once
	bootHash uint64
)

// processStart anchors the fallback clock and the monotonic offset.
var processStart = time.Now()
