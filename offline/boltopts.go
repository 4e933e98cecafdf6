package offline

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltOptions are the options of every bbolt handle the package opens: the
// store itself, its reopening after compaction and the compaction's copy.
func boltOptions(timeout time.Duration) *bolt.Options {
	return &bolt.Options{Timeout: timeout, NoSync: crashControlNoSync}
}
