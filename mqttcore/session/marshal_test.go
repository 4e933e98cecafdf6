package session

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

// populated returns a session with every kind of state: an unacked QoS 1,
// a QoS 2 awaiting PUBCOMP, a queued message, inbound ids and drops.
func populated() *Session {
	s := online(Options{MaxInflight: 2, MaxQueued: 1})
	s.Publish(Message{Topic: "a/1", Payload: []byte("one"), QoS: 1, Retain: true}, t0)
	s.Publish(Message{Topic: "b/2", Payload: nil, QoS: 2}, t0)
	s.Received(2)
	s.Publish(Message{Topic: "c/3", Payload: []byte{0, 1, 2}, QoS: 2}, t0)
	s.Publish(Message{Topic: "dropped", QoS: 1}, t0)
	s.ReceiveQoS2(300)
	s.ReceiveQoS2(9)
	s.Disconnect()
	return s
}

// observe returns everything a session would do after a reconnect, for
// comparing two sessions by behaviour.
func observe(s *Session) map[string]any {
	res := s.Resume(t0)
	s.Ack(1)
	s.Complete(2)
	var next []Outbound
	for o, ok := s.Next(t0); ok; o, ok = s.Next(t0) {
		next = append(next, o)
	}
	return map[string]any{
		"resume": res, "next": next, "dropped": s.Dropped(), "lastID": s.lastID,
		"dup300": s.ReceiveQoS2(300), "dup9": s.ReceiveQoS2(9), "new10": s.ReceiveQoS2(10),
	}
}

func TestSession_MarshalBinary_roundTrip(t *testing.T) {
	tests := []struct {
		name string
		s    func() *Session
	}{
		{"empty", func() *Session { return New(Options{}) }},
		{"populated", populated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.s().MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Unmarshal(b, Options{MaxInflight: 2, MaxQueued: 1}, t0)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if got.Online() {
				t.Error("restored session is online")
			}
			b2, _ := got.MarshalBinary()
			if len(b2) != len(b) {
				t.Errorf("re-marshalled %d bytes, first time %d", len(b2), len(b))
			}
			if o1, o2 := observe(tt.s()), observe(got); !reflect.DeepEqual(o1, o2) {
				t.Errorf("restored session behaves differently:\n got %+v\nwant %+v", o2, o1)
			}
		})
	}
}

func TestUnmarshal_malformed(t *testing.T) {
	valid, _ := populated().MarshalBinary()
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown version", []byte{3, 0, 0, 0, 0, 0, 0}},
		{"reference 0", []byte{2, 0, 0, 0, 1, 0, 1, 1, flagRef | 1, 0}},
		{"reference in the queue", []byte{2, 0, 0, 0, 0, 1, flagRef | 1, 5}},
		{"trailing bytes", append(append([]byte(nil), valid...), 0)},
		{"huge inflight count", []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"huge topic length", []byte{1, 0, 0, 0, 0, 1, 1, 0xff, 0xff, 0x03}},
		{"bad varint", []byte{1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"inflight id 0", []byte{1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}},
		{"inflight qos 0", []byte{1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0}},
		{"qos 3", []byte{1, 0, 0, 0, 0, 1, 3, 0, 0, 0}},
		{"unknown flag bits", []byte{1, 0, 0, 0, 0, 1, 0x41, 0, 0, 0}},
		{"pubrel phase on qos1", []byte{1, 0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0}},
		{"unknown phase", []byte{1, 0, 0, 0, 1, 0, 1, 7, 2, 0, 0, 0, 0}},
		{"duplicate inflight id", []byte{1, 0, 0, 0, 2, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0}},
		{"inbound id 0", []byte{1, 0, 0, 0, 0, 0, 1, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Unmarshal(tt.b, Options{}, t0); !errors.Is(err, ErrMalformed) {
				t.Errorf("Unmarshal = %v, want ErrMalformed", err)
			}
		})
	}
	t.Run("every truncation", func(t *testing.T) {
		for n := range len(valid) {
			if _, err := Unmarshal(valid[:n], Options{}, t0); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Unmarshal(first %d of %d bytes) = %v, want ErrMalformed", n, len(valid), err)
			}
		}
	})
}

func FuzzUnmarshal(f *testing.F) {
	valid, _ := populated().MarshalBinary()
	empty, _ := New(Options{}).MarshalBinary()
	f.Add(valid)
	f.Add(empty)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Unmarshal(b, Options{MaxInflight: 4, MaxQueued: 4}, t0)
		if err != nil {
			return
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := Unmarshal(again, Options{MaxInflight: 4, MaxQueued: 4}, t0)
		if err != nil {
			t.Fatalf("re-marshalled session does not decode: %v", err)
		}
		if st, st2 := s.Stats(t0), s2.Stats(t0); st != st2 {
			t.Fatalf("stats changed across a round trip: %+v vs %+v", st, st2)
		}
		s.Resume(time.Time{}) // must not panic on restored state
	})
}

// TestSession_MarshalBinary_refs: messages with a Ref are not in the
// record: an inflight one keeps its identifier and phase by reference, a
// queued one is left out; Restore puts back what the caller still holds
// and drops inflight references it no longer has.
func TestSession_MarshalBinary_refs(t *testing.T) {
	msgs := map[uint64]Message{
		1: {Topic: "a", Payload: []byte("one"), QoS: 1, Ref: 1},
		2: {Topic: "b", Payload: []byte("two"), QoS: 2, Ref: 2},
		3: {Topic: "c", Payload: []byte("three"), QoS: 1, Ref: 3},
		4: {Topic: "d", Payload: []byte("four"), QoS: 1, Ref: 4},
	}
	s := online(Options{MaxInflight: 3})
	for _, r := range []uint64{1, 2, 3} {
		s.Publish(msgs[r], t0)
	}
	s.Publish(Message{Topic: "plain", Payload: []byte("p"), QoS: 1}, t0) // queued, no Ref
	s.Publish(msgs[4], t0)                                               // queued
	s.Received(2)
	s.Disconnect()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, payload := range []string{"one", "two", "three", "four"} {
		if bytes.Contains(b, []byte(payload)) {
			t.Errorf("record holds the payload %q of a message with a Ref", payload)
		}
	}
	got, err := Unmarshal(b, Options{MaxInflight: 10}, t0)
	if err != nil {
		t.Fatal(err)
	}
	// Message 3 was acknowledged after the record was written: the caller
	// no longer has it.
	lookup := func(r uint64) (Message, bool) { m, ok := msgs[r]; return m, ok && r != 3 }
	got.Restore(lookup, []Message{msgs[1], msgs[2], msgs[4]}, t0)
	res := got.Resume(t0)
	if len(res) != 2 || res[0].Topic != "a" || !res[0].Dup || res[0].PacketID != 1 || !res[1].Pubrel || res[1].PacketID != 2 {
		t.Fatalf("resume = %+v, want a re-sent (id 1) and PUBREL 2", res)
	}
	var next []string
	for o, ok := got.Next(t0); ok; o, ok = got.Next(t0) {
		next = append(next, o.Topic)
	}
	if !reflect.DeepEqual(next, []string{"plain", "d"}) {
		t.Fatalf("queued after restore = %v, want [plain d]", next)
	}
	var refs []uint64
	got.Refs(func(r uint64) { refs = append(refs, r) })
	if !reflect.DeepEqual(refs, []uint64{1, 2, 4}) {
		t.Errorf("Refs = %v, want [1 2 4]", refs)
	}
}
