package broker

import (
	"runtime/debug"
	"sync"
	"time"
)

// A packet larger than the pooled read buffer gets a buffer of its own
// (see frameReader.reserve), up to Options.MaxPacketSize. When such a
// connection goes away, the garbage collector frees the buffer only at its
// next cycle — which an idle gateway may not run for minutes — and the
// runtime returns the pages to the OS later still: eight partial 32 MiB
// packets used to leave ~1 GiB of RSS behind. memReleaser returns them
// soon after a large buffer is dropped, at most once per releaseGap.

// Release parameters.
const (
	largeReadBuf = 4 << 20          // dropping a buffer this large schedules a release
	releaseDelay = time.Second      // lets a burst of closing connections finish first
	releaseGap   = 10 * time.Second // the most often memory is released
)

// memReleaser schedules debug.FreeOSMemory after large buffers are dropped.
type memReleaser struct {
	mu        sync.Mutex
	scheduled bool
	last      time.Time
}

// dropped notes that a buffer of size bytes was given up.
func (m *memReleaser) dropped(size int) {
	if m == nil || size < largeReadBuf {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.scheduled {
		return
	}
	m.scheduled = true
	time.AfterFunc(max(releaseDelay, releaseGap-time.Since(m.last)), m.release)
}

// release collects garbage and returns free memory to the OS.
func (m *memReleaser) release() {
	debug.FreeOSMemory()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scheduled, m.last = false, time.Now()
}
