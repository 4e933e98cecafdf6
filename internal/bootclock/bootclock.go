// Package bootclock reads the clock that persisted deadlines are measured
// with: CLOCK_BOOTTIME (time since boot, counting suspend, never stepped)
// and the kernel's boot id, which says whether a stamp taken by an earlier
// process is comparable with the clock now. A board without an RTC boots
// in 1970 and is then stepped by NTP; a countdown kept in boot time is
// immune to that, and one from an earlier boot is recognised as such
// (its owner then knows only what was left when it was written).
//
// offline keeps its own copy of this clock for the bridge queue's TTL
// (offline/clock_linux.go); the broker's MQTT 5.0 message expiry uses this
// package.
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

// BootID returns a hash of the kernel's boot id; where the kernel has none,
// a value drawn at random when the process started, so that every process
// counts as a new boot (no stamp of an earlier process is trusted).
func BootID() uint64 {
	bootOnce.Do(func() {
		id, err := readBootID()
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
