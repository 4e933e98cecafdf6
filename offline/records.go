package offline

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Small values stored beside the entries. Each starts with a version byte and
// uses varints, like the entry encoding in entry.go.
const recordVersion = 1

// queueMeta is the persisted depth of a queue, kept in the queue's bucket
// under metaKey and updated in the same transaction as the entries, so that
// Open knows the depth without counting; and the queue's drop counters, so
// that they count over the store's life, not since the last Open.
type queueMeta struct {
	messages    uint64 // entries in the queue
	bytes       uint64 // sum of topic+payload lengths of those entries
	quarantined uint64 // entries in the quarantine bucket

	expired, overflowOldest, overflowNew uint64 // dropped, by reason
}

// dropped returns the drop counters as QueueStats.Dropped has them (all
// three keys present).
func (m queueMeta) dropped() map[string]uint64 {
	return map[string]uint64{
		DroppedExpired:        m.expired,
		DroppedOverflowOldest: m.overflowOldest,
		DroppedOverflowNew:    m.overflowNew,
	}
}

func (m queueMeta) encode() []byte {
	b := []byte{recordVersion}
	b = binary.AppendUvarint(b, m.messages)
	b = binary.AppendUvarint(b, m.bytes)
	b = binary.AppendUvarint(b, m.quarantined)
	b = binary.AppendUvarint(b, m.expired)
	b = binary.AppendUvarint(b, m.overflowOldest)
	return binary.AppendUvarint(b, m.overflowNew)
}

// decodeQueueMeta decodes a queue meta record. The drop counters were added
// after the first release: a record without them has them at zero (and an
// older gateway reading a newer record ignores them).
func decodeQueueMeta(b []byte) (queueMeta, error) {
	d := decoder{b: b}
	if v := d.byte(); v != recordVersion {
		return queueMeta{}, fmt.Errorf("%w: queue meta version %d", errMalformed, v)
	}
	m := queueMeta{messages: d.uvarint(), bytes: d.uvarint(), quarantined: d.uvarint()}
	if d.err == nil && d.off < len(d.b) {
		m.expired, m.overflowOldest, m.overflowNew = d.uvarint(), d.uvarint(), d.uvarint()
	}
	return m, d.err
}

// bootRecord says which boot last opened the DB. seq increases by one each
// time Open sees a new boot id; entries store the seq of their boot, so an
// entry's boot-relative stamp is comparable with the clock only when its seq
// equals the current one. firstSeen is CLOCK_BOOTTIME when this boot first
// opened the DB: the age of entries from earlier boots counts from there.
type bootRecord struct {
	seq       uint64
	id        string
	firstSeen time.Duration
}

// age is how long entry e has been queued at boot time now, when r is this
// boot's record: since its append if that was in this boot, otherwise
// since this boot first opened the DB (see the package doc).
func (r bootRecord) age(e *record, now time.Duration) time.Duration {
	since := r.firstSeen
	if e.bootSeq == r.seq {
		since = e.bootStamp
	}
	return max(now-since, 0)
}

func (r bootRecord) encode() []byte {
	b := []byte{recordVersion}
	b = binary.AppendUvarint(b, r.seq)
	b = binary.AppendUvarint(b, uint64(len(r.id)))
	b = append(b, r.id...)
	return binary.AppendVarint(b, int64(r.firstSeen))
}

func decodeBootRecord(b []byte) (bootRecord, error) {
	d := decoder{b: b}
	if v := d.byte(); v != recordVersion {
		return bootRecord{}, fmt.Errorf("%w: boot record version %d", errMalformed, v)
	}
	var r bootRecord
	r.seq = d.uvarint()
	r.id = string(d.bytes(d.uvarint()))
	r.firstSeen = time.Duration(d.varint())
	return r, d.err
}

// quarantineRecord wraps an entry moved to the quarantine bucket: when, why,
// and the entry's original bytes (which may not decode: that is one reason
// to quarantine).
type quarantineRecord struct {
	at     time.Time
	reason string
	entry  []byte
}

func (r quarantineRecord) encode() []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(r.reason)+len(r.entry))
	b = append(b, recordVersion)
	b = binary.AppendVarint(b, r.at.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(r.reason)))
	b = append(b, r.reason...)
	return append(b, r.entry...)
}

// decodeQuarantineRecord decodes b; entry is copied.
func decodeQuarantineRecord(b []byte) (quarantineRecord, error) {
	d := decoder{b: b}
	if v := d.byte(); v != recordVersion {
		return quarantineRecord{}, fmt.Errorf("%w: quarantine record version %d", errMalformed, v)
	}
	var r quarantineRecord
	r.at = time.Unix(0, d.varint())
	r.reason = string(d.bytes(d.uvarint()))
	if d.err != nil {
		return r, d.err
	}
	r.entry = append([]byte(nil), b[d.off:]...)
	return r, nil
}

// seqKey is the bbolt key of sequence number seq: 8 bytes big-endian, so that
// byte order is numeric order and Cursor.First is the oldest entry.
func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

// keySeq is the inverse of seqKey; ok is false for a key of the wrong length.
func keySeq(k []byte) (seq uint64, ok bool) {
	if len(k) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(k), true
}
