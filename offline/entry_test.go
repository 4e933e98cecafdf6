package offline

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

var recordTests = []struct {
	name string
	rec  record
}{
	{"empty", record{wall: time.Unix(0, 0)}},
	{"qos1 sensor reading", record{
		msg:     Message{Topic: "sensors/kitchen/temperature", Payload: []byte(`{"value":21.53}`), QoS: 1, TTL: time.Hour},
		bootSeq: 3, bootStamp: 12 * time.Second, wall: time.Date(2024, 5, 1, 12, 0, 0, 123, time.UTC),
	}},
	{"qos2 retained received", record{
		msg:      Message{Topic: "a/b", Payload: []byte{0, 1, 2, 0xff}, QoS: 2, Retain: true},
		received: true, bootSeq: 1 << 40, bootStamp: 1 << 50, wall: time.Unix(-86400, 0), // before 1970
	}},
	{"qos1 with props", record{
		msg:     Message{Topic: "t", Payload: []byte("p"), QoS: 1, Props: []byte{0x30, 7, 0, 1, 'p', 4, 3, 0, 1, 'x'}},
		bootSeq: 1, wall: time.Unix(3, 0),
	}},
	{"props, empty payload", record{
		msg: Message{Topic: "a", QoS: 2, Props: []byte{1}}, wall: time.Unix(3, 0),
	}},
	{"binary topic, long payload", record{
		msg: Message{Topic: "\x00\xff", Payload: bytes.Repeat([]byte("z"), 70000)}, wall: time.Unix(1, 1),
	}},
}

func TestRecord_encodeDecode(t *testing.T) {
	for _, tt := range recordTests {
		t.Run(tt.name, func(t *testing.T) {
			b := encodeRecord(nil, &tt.rec)
			got, err := decodeRecord(b)
			if err != nil {
				t.Fatal(err)
			}
			if !recordsEqual(got, tt.rec) {
				t.Fatalf("decode(encode(r)) = %+v, want %+v", got, tt.rec)
			}
			if entrySize(b) != tt.rec.size() {
				t.Errorf("entrySize = %d, want %d", entrySize(b), tt.rec.size())
			}
		})
	}
}

func recordsEqual(a, b record) bool {
	if len(a.msg.Payload) == 0 && len(b.msg.Payload) == 0 {
		a.msg.Payload, b.msg.Payload = nil, nil
	}
	wallEqual := a.wall.Equal(b.wall)
	a.wall, b.wall = time.Time{}, time.Time{}
	return wallEqual && reflect.DeepEqual(a, b)
}

func TestRecord_decodeMalformed(t *testing.T) {
	valid := encodeRecord(nil, &recordTests[1].rec)
	tests := map[string][]byte{
		"empty":                 {},
		"version only":          {entryVersion},
		"unknown version":       append([]byte{2}, valid[1:]...),
		"unknown flag":          append([]byte{entryVersion, 0x80}, valid[2:]...),
		"QoS 3":                 append([]byte{entryVersion, 3 << flagQoSShift}, valid[2:]...),
		"truncated varint":      valid[:3],
		"topic longer than all": {entryVersion, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'},
		"huge topic length":     {entryVersion, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"topic cut":             valid[:len(valid)-len(recordTests[1].rec.msg.Payload)-5],
		"empty props":           {entryVersion, flagProps, 0, 0, 0, 0, 1, 'a', 0},
		"props cut":             {entryVersion, flagProps, 0, 0, 0, 0, 1, 'a', 5, 1, 2},
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeRecord(b); !errors.Is(err, errMalformed) {
				t.Fatalf("decodeRecord(%x) = %v, want errMalformed", b, err)
			}
			if n := entrySize(b); n > uint64(len(b)) {
				t.Errorf("entrySize = %d beyond the %d bytes", n, len(b))
			}
		})
	}
}

// TestRecord_beforeProps: an entry written before properties were stored
// (these bytes, from a release without them) decodes as it did, and an
// entry without properties is still encoded exactly so.
func TestRecord_beforeProps(t *testing.T) {
	old := []byte{entryVersion, 1 << flagQoSShift, 3, 24, 2, 0, 3, 'a', '/', 'b', 'h', 'i'}
	r, err := decodeRecord(old)
	if err != nil {
		t.Fatal(err)
	}
	if r.msg.Topic != "a/b" || string(r.msg.Payload) != "hi" || r.msg.QoS != 1 || r.msg.Props != nil || r.bootSeq != 3 || r.bootStamp != 12 {
		t.Fatalf("old entry decoded as %+v", r)
	}
	if again := encodeRecord(nil, &r); !bytes.Equal(again, old) {
		t.Errorf("re-encoded as %x, want %x", again, old)
	}
	if entrySize(old) != 5 {
		t.Errorf("entrySize = %d, want 5", entrySize(old))
	}
}

func TestRecords_small(t *testing.T) {
	m := queueMeta{messages: 1 << 40, bytes: 7, quarantined: 3, expired: 4, overflowOldest: 5, overflowNew: 6}
	if got, err := decodeQueueMeta(m.encode()); err != nil || got != m {
		t.Errorf("queueMeta round trip = %+v, %v", got, err)
	}
	// A record written before the drop counters: they read as zero.
	old := []byte{recordVersion, 2, 20, 1}
	if got, err := decodeQueueMeta(old); err != nil || got != (queueMeta{messages: 2, bytes: 20, quarantined: 1}) {
		t.Errorf("old queueMeta = %+v, %v", got, err)
	}
	if _, err := decodeQueueMeta(append(old, 1)); err == nil {
		t.Errorf("queueMeta with a truncated counter accepted")
	}
	br := bootRecord{seq: 9, id: "5d1c0a5e-5f7b-4a2b-9c1d-7c3e2b1a0f9e", firstSeen: 3 * time.Second}
	if got, err := decodeBootRecord(br.encode()); err != nil || got != br {
		t.Errorf("bootRecord round trip = %+v, %v", got, err)
	}
	qr := quarantineRecord{at: time.Unix(5, 6), reason: "rejected", entry: []byte{1, 2, 3}}
	got, err := decodeQuarantineRecord(qr.encode())
	if err != nil || !got.at.Equal(qr.at) || got.reason != qr.reason || !bytes.Equal(got.entry, qr.entry) {
		t.Errorf("quarantineRecord round trip = %+v, %v", got, err)
	}
	for _, b := range [][]byte{nil, {9}, {recordVersion, 0xff}} {
		if _, err := decodeBootRecord(b); err == nil {
			t.Errorf("decodeBootRecord(%x) accepted", b)
		}
		if _, err := decodeQueueMeta(b); err == nil {
			t.Errorf("decodeQueueMeta(%x) accepted", b)
		}
		if _, err := decodeQuarantineRecord(b); err == nil {
			t.Errorf("decodeQuarantineRecord(%x) accepted", b)
		}
	}
}

// FuzzDecodeRecord: decoding arbitrary bytes never panics, and what decodes
// re-encodes to a value that decodes the same.
func FuzzDecodeRecord(f *testing.F) {
	for _, tt := range recordTests {
		f.Add(encodeRecord(nil, &tt.rec))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		size := entrySize(b)
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		if size != r.size() {
			t.Fatalf("entrySize %d, decoded size %d", size, r.size())
		}
		again, err := decodeRecord(encodeRecord(nil, &r))
		if err != nil || !recordsEqual(again, r) {
			t.Fatalf("re-decode = %+v, %v; want %+v", again, err, r)
		}
	})
}
