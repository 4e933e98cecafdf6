package offline

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltOptions are the options of every bbolt handle the package opens: the
// store itself and the compaction's copy, which then becomes the store.
//
// NoFreelistSync stays off although it would spare one page per commit
// (measured on ext4: 32 KB → 28 KB per small commit): with it, bbolt's Open
// rebuilds the free list by walking every page on a goroutine of its own
// (bbolt 1.5 db.freepages), where a damaged page panics beyond any recover
// — a corrupt file would crash the gateway at every start instead of being
// moved aside. The deferred commits (AppendDeferred) are what spare the
// flash.
func boltOptions(timeout time.Duration) *bolt.Options {
	return &bolt.Options{Timeout: timeout, NoSync: crashControlNoSync}
}
