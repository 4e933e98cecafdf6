package sensors

import (
	"time"

	"golang.org/x/sys/unix"
)

// SystemClockSynced reports whether the system clock is synchronized (an NTP
// client such as systemd-timesyncd or chrony disciplines it). It asks the
// kernel with adjtimex(2), read-only: STA_UNSYNC in the status or the
// TIME_ERROR clock state mean unsynchronized. When the kernel cannot tell, a
// clock before 2020 counts as unsynchronized (a board without an RTC boots in
// 1970).
func SystemClockSynced() bool {
	if time.Now().Before(clockFloor) {
		return false
	}
	var tx unix.Timex // Modes == 0: query only, allowed without privileges
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return true // cannot tell; the date looks plausible
	}
	return state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0
}
