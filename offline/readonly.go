package offline

import (
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Errors of ReadQueueStats.
var (
	// ErrNoQueue: the store has no queue of that name (e.g. the gateway
	// never ran with a bridge).
	ErrNoQueue = errors.New("offline: no such queue")
	// ErrLocked: another process (a running gateway) holds the store's
	// lock for longer than the timeout.
	ErrLocked = errors.New("offline: store locked by another process")
)

// ReadQueueStats opens the store at path read-only and returns the depth of
// queue name: Messages, Bytes, Quarantined, OldestAge and the stored drop
// counters (Appended and Acked, which count since an Open, are zero). It never writes: no boot record, no
// bucket, no corrupt-file recovery, and the file's mode and owner stay as
// they are, so it is safe to run as any user who can read the file. It takes
// bbolt's shared lock, so it waits up to timeout (0: for ever) while a
// gateway holds the store, then fails with ErrLocked.
func ReadQueueStats(path, name string, timeout time.Duration) (QueueStats, error) {
	st := QueueStats{Name: name, Dropped: queueMeta{}.dropped()}
	if _, err := os.Stat(path); err != nil {
		return st, fmt.Errorf("offline: %w", err)
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return st, fmt.Errorf("%w: %s (waited %v)", ErrLocked, path, timeout)
	}
	if err != nil {
		return st, fmt.Errorf("offline: open %s read-only: %w", path, err)
	}
	defer b.Close()
	clk := clock{}.withDefaults()
	err = b.View(func(tx *bolt.Tx) error { return readQueueStats(tx, name, clk, &st) })
	return st, err
}

//

// readQueueStats fills st from queue name's bucket in tx.
func readQueueStats(tx *bolt.Tx, name string, clk clock, st *QueueStats) error {
	bk := tx.Bucket([]byte(queuePrefix + name))
	if bk == nil {
		return fmt.Errorf("%w: %q", ErrNoQueue, name)
	}
	if v := bk.Get(queueMetaKey); v != nil {
		m, err := decodeQueueMeta(v)
		if err != nil {
			return fmt.Errorf("offline: queue %q: %w", name, err)
		}
		st.Messages, st.Bytes, st.Quarantined, st.Dropped = m.messages, m.bytes, m.quarantined, m.dropped()
	}
	eb := bk.Bucket(entriesBucket)
	if eb == nil {
		return nil
	}
	if _, v := eb.Cursor().First(); v != nil {
		if r, err := decodeRecord(v); err == nil {
			st.OldestAge = readOnlyAge(tx, &r, clk)
		}
	}
	return nil
}

// readOnlyAge is DB.age for a store nobody opened in this boot yet: the
// stored boot record decides whether r's stamp is from this boot; an entry
// from an earlier boot is 0 old, as it will be when the gateway opens it.
func readOnlyAge(tx *bolt.Tx, r *record, clk clock) time.Duration {
	var rec bootRecord
	if mb := tx.Bucket(metaBucket); mb != nil {
		if v := mb.Get(bootKey); v != nil {
			rec, _ = decodeBootRecord(v)
		}
	}
	id, err := clk.bootID()
	if err != nil || rec.id != id {
		return 0
	}
	return rec.age(r, clk.boottime())
}
