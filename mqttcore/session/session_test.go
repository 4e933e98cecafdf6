package session

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func msg(topic string, qos byte) Message {
	return Message{Topic: topic, Payload: []byte("p-" + topic), QoS: qos}
}

// online returns a resumed (connected) session.
func online(o Options) *Session {
	s := New(o)
	s.Resume(t0)
	return s
}

// mustSend publishes m and fails unless the session says Send.
func mustSend(t *testing.T, s *Session, m Message) Outbound {
	t.Helper()
	out, res := s.Publish(m, t0)
	if res != Send {
		t.Fatalf("Publish(%q) = %v, want send", m.Topic, res)
	}
	return out
}

func TestOptions_withDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Options
		want Options
	}{
		{"zero", Options{}, Options{MaxInflight: DefaultMaxInflight, MaxQueued: DefaultMaxQueued}},
		{"negative", Options{MaxInflight: -1, MaxQueued: -5}, Options{MaxInflight: DefaultMaxInflight, MaxQueued: DefaultMaxQueued}},
		{"kept", Options{MaxInflight: 3, MaxQueued: 7}, Options{MaxInflight: 3, MaxQueued: 7}},
		{"capped", Options{MaxInflight: 1 << 20, MaxQueued: 1}, Options{MaxInflight: MaxPacketID, MaxQueued: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New(tt.in).Options(); got != tt.want {
				t.Errorf("Options() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSession_Publish(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		online    bool
		msgs      []Message
		want      []Result
		wantIDs   []uint16 // packet ids of the Send results, in order
		dropped   uint64
		queued    int
		inflight  int
		wantQueue []string // topics returned by Next afterwards (online only)
	}{
		{
			name: "qos1 and qos2 get ids from 1", opts: Options{MaxInflight: 5}, online: true,
			msgs:    []Message{msg("a", 1), msg("b", 2), msg("c", 1)},
			want:    []Result{Send, Send, Send},
			wantIDs: []uint16{1, 2, 3}, inflight: 3,
		},
		{
			name: "qos0 online is sent without id and not tracked", online: true,
			msgs: []Message{msg("a", 0), msg("b", 0)},
			want: []Result{Send, Send}, wantIDs: []uint16{0, 0},
		},
		{
			name: "window full queues in order", opts: Options{MaxInflight: 2}, online: true,
			msgs:    []Message{msg("a", 1), msg("b", 1), msg("c", 2), msg("d", 1)},
			want:    []Result{Send, Send, Queued, Queued},
			wantIDs: []uint16{1, 2}, inflight: 2, queued: 2,
		},
		{
			name: "offline queues every qos",
			msgs: []Message{msg("a", 1), msg("b", 0), msg("c", 2)},
			want: []Result{Queued, Queued, Queued}, queued: 3,
		},
		{
			name: "offline queue bound drops the new message", opts: Options{MaxQueued: 2},
			msgs: []Message{msg("a", 1), msg("b", 1), msg("c", 1), msg("d", 2)},
			want: []Result{Queued, Queued, Dropped, Dropped}, queued: 2, dropped: 2,
		},
		{
			name: "online queue behind window is bounded too", opts: Options{MaxInflight: 1, MaxQueued: 1}, online: true,
			msgs:    []Message{msg("a", 1), msg("b", 1), msg("c", 1)},
			want:    []Result{Send, Queued, Dropped},
			wantIDs: []uint16{1}, inflight: 1, queued: 1, dropped: 1,
		},
		{
			name: "qos0 waits behind queued messages to keep order", opts: Options{MaxInflight: 1}, online: true,
			msgs:    []Message{msg("a", 1), msg("b", 1), msg("c", 0)},
			want:    []Result{Send, Queued, Queued},
			wantIDs: []uint16{1}, inflight: 1, queued: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.opts)
			if tt.online {
				s.Resume(t0)
			}
			var ids []uint16
			for i, m := range tt.msgs {
				out, res := s.Publish(m, t0)
				if res != tt.want[i] {
					t.Fatalf("Publish(%q) = %v, want %v", m.Topic, res, tt.want[i])
				}
				if res == Send {
					ids = append(ids, out.PacketID)
					if out.Topic != m.Topic || out.QoS != m.QoS || out.Dup || out.Pubrel {
						t.Errorf("Publish(%q) out = %+v", m.Topic, out)
					}
				}
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("sent ids = %v, want %v", ids, tt.wantIDs)
			}
			st := s.Stats(t0)
			if st.Inflight != tt.inflight || st.Queued != tt.queued || st.Dropped != tt.dropped || s.Dropped() != tt.dropped {
				t.Errorf("stats = %+v, want inflight %d queued %d dropped %d", st, tt.inflight, tt.queued, tt.dropped)
			}
			if s.Len() != tt.inflight+tt.queued {
				t.Errorf("Len() = %d, want %d", s.Len(), tt.inflight+tt.queued)
			}
		})
	}
}

func TestSession_allocID(t *testing.T) {
	t.Run("wraps after 65535 and skips 0", func(t *testing.T) {
		s := online(Options{MaxInflight: 4})
		s.lastID = 65534
		var got []uint16
		for _, m := range []Message{msg("a", 1), msg("b", 1), msg("c", 1)} {
			out := mustSend(t, s, m)
			got = append(got, out.PacketID)
			s.Ack(out.PacketID)
		}
		if want := []uint16{65535, 1, 2}; !reflect.DeepEqual(got, want) {
			t.Errorf("ids = %v, want %v", got, want)
		}
	})
	t.Run("skips ids still in flight", func(t *testing.T) {
		s := online(Options{MaxInflight: 10})
		a := mustSend(t, s, msg("a", 1)) // 1
		b := mustSend(t, s, msg("b", 1)) // 2
		mustSend(t, s, msg("c", 1))      // 3
		s.Ack(b.PacketID)
		s.lastID = 65535 // next candidates: 1 (in use), 2 (free)
		if out := mustSend(t, s, msg("d", 1)); out.PacketID != 2 {
			t.Errorf("id = %d, want 2 (1 is in use by %q)", out.PacketID, a.Topic)
		}
		if out := mustSend(t, s, msg("e", 1)); out.PacketID != 4 {
			t.Errorf("id = %d, want 4 (3 is in use)", out.PacketID)
		}
	})
	t.Run("large window skips ids in use", func(t *testing.T) {
		s := online(Options{MaxInflight: 500})
		for range 300 {
			mustSend(t, s, msg("x", 1)) // ids 1..300, tracked in a bitmap past 64
		}
		for id := uint16(100); id <= 200; id++ {
			s.Ack(id)
		}
		s.lastID = 65535
		for want := uint16(100); want <= 200; want++ {
			if out := mustSend(t, s, msg("y", 1)); out.PacketID != want {
				t.Fatalf("id = %d, want %d", out.PacketID, want)
			}
		}
		if out := mustSend(t, s, msg("z", 1)); out.PacketID != 301 {
			t.Fatalf("id = %d, want 301", out.PacketID)
		}
		for _, e := range append([]entry(nil), s.inflight...) {
			s.Ack(e.id)
		}
		if s.used != nil || s.inflight != nil {
			t.Error("a drained large window keeps its bitmap or array")
		}
	})
	t.Run("full id space cannot allocate", func(t *testing.T) {
		s := online(Options{MaxInflight: MaxPacketID})
		for i := 0; i < MaxPacketID; i++ {
			mustSend(t, s, msg("x", 1))
		}
		if _, ok := s.allocID(); ok {
			t.Fatal("allocID succeeded with every identifier in flight")
		}
	})
}

func TestSession_acks(t *testing.T) {
	type step struct {
		op   string // "ack", "rec", "comp"
		id   uint16
		want bool
	}
	tests := []struct {
		name     string
		msgs     []Message // sent in order, ids 1..n
		steps    []step
		inflight int
	}{
		{"qos1 puback releases", []Message{msg("a", 1)}, []step{{"ack", 1, true}, {"ack", 1, false}}, 0},
		{"qos2 full flow", []Message{msg("a", 2)}, []step{{"rec", 1, true}, {"comp", 1, true}}, 0},
		{"qos2 repeated pubrec asks for pubrel again", []Message{msg("a", 2)}, []step{{"rec", 1, true}, {"rec", 1, true}}, 1},
		{"pubcomp before pubrec is ignored", []Message{msg("a", 2)}, []step{{"comp", 1, false}}, 1},
		{"puback for qos2 is ignored", []Message{msg("a", 2)}, []step{{"ack", 1, false}}, 1},
		{"pubrec for qos1 is ignored", []Message{msg("a", 1)}, []step{{"rec", 1, false}, {"comp", 1, false}}, 1},
		{"unknown ids are ignored", []Message{msg("a", 1)}, []step{{"ack", 9, false}, {"rec", 9, false}, {"comp", 9, false}}, 1},
		{"acks out of order", []Message{msg("a", 1), msg("b", 1), msg("c", 1)}, []step{{"ack", 2, true}, {"ack", 3, true}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := online(Options{})
			for _, m := range tt.msgs {
				mustSend(t, s, m)
			}
			for _, st := range tt.steps {
				var got bool
				switch st.op {
				case "ack":
					_, got = s.Ack(st.id)
				case "rec":
					got = s.Received(st.id)
				case "comp":
					_, got = s.Complete(st.id)
				}
				if got != st.want {
					t.Errorf("%s(%d) = %v, want %v", st.op, st.id, got, st.want)
				}
			}
			if n := s.Stats(t0).Inflight; n != tt.inflight {
				t.Errorf("inflight = %d, want %d", n, tt.inflight)
			}
		})
	}
}

func TestSession_Next(t *testing.T) {
	s := online(Options{MaxInflight: 2})
	a := mustSend(t, s, msg("a", 1))
	b := mustSend(t, s, msg("b", 2))
	for _, m := range []Message{msg("c", 1), msg("d", 0), msg("e", 2)} {
		if _, res := s.Publish(m, t0); res != Queued {
			t.Fatalf("Publish(%q) = %v, want queued", m.Topic, res)
		}
	}
	if _, ok := s.Next(t0); ok {
		t.Fatal("Next with a full window returned a message")
	}
	s.Ack(a.PacketID)
	var got []string
	for o, ok := s.Next(t0); ok; o, ok = s.Next(t0) {
		got = append(got, fmt.Sprintf("%s/%d/%d", o.Topic, o.QoS, o.PacketID))
	}
	// c takes the free slot; d is QoS 0 so it needs none; e waits for b.
	if want := []string{"c/1/3", "d/0/0"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after ack: Next = %v, want %v", got, want)
	}
	s.Received(b.PacketID)
	if _, ok := s.Next(t0); ok {
		t.Fatal("a QoS 2 message awaiting PUBCOMP must keep its window slot")
	}
	s.Complete(b.PacketID)
	o, ok := s.Next(t0)
	if !ok || o.Topic != "e" || o.PacketID != 4 {
		t.Fatalf("after pubcomp: Next = %+v, %v; want e with id 4", o, ok)
	}
	s.Disconnect()
	s.Ack(3)
	s.Publish(msg("f", 1), t0)
	if _, ok := s.Next(t0); ok {
		t.Fatal("Next returned a message while offline")
	}
}

func TestSession_Resume(t *testing.T) {
	s := online(Options{MaxInflight: 3})
	mustSend(t, s, msg("a", 1)) // 1: unacked
	mustSend(t, s, msg("b", 2)) // 2: PUBREC received
	mustSend(t, s, msg("c", 2)) // 3: unacked
	s.Received(2)
	s.Publish(msg("d", 1), t0) // queued behind the window
	s.Disconnect()
	s.Publish(msg("e", 2), t0) // queued while offline
	s.Publish(msg("f", 0), t0) // queued while offline

	got := s.Resume(t0.Add(time.Minute))
	want := []Outbound{
		{Message: msg("a", 1), PacketID: 1, Dup: true},
		{Message: msg("b", 2), PacketID: 2, Pubrel: true},
		{Message: msg("c", 2), PacketID: 3, Dup: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Resume = %+v\nwant %+v", got, want)
	}
	if !s.Online() {
		t.Fatal("not online after Resume")
	}
	if _, ok := s.Next(t0); ok {
		t.Fatal("Next sent past a full window after Resume")
	}
	s.Ack(1)
	s.Complete(2)
	var next []string
	for o, ok := s.Next(t0); ok; o, ok = s.Next(t0) {
		next = append(next, o.Topic)
	}
	if want := []string{"d", "e", "f"}; !reflect.DeepEqual(next, want) {
		t.Errorf("queued messages in order = %v, want %v", next, want)
	}
	if got := New(Options{}).Resume(t0); got != nil {
		t.Errorf("Resume of an empty session = %v, want nil", got)
	}
}

func TestSession_inboundQoS2(t *testing.T) {
	type step struct {
		op   string // "recv" or "rel"
		id   uint16
		want bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"new then duplicate is not delivered again", []step{{"recv", 7, true}, {"recv", 7, false}}},
		{"released id is new again", []step{{"recv", 7, true}, {"rel", 7, true}, {"recv", 7, true}}},
		{"pubrel for unknown id", []step{{"rel", 7, false}}},
		{"ids are independent", []step{{"recv", 1, true}, {"recv", 2, true}, {"rel", 1, true}, {"recv", 2, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{})
			for _, st := range tt.steps {
				var got bool
				if st.op == "recv" {
					got = s.ReceiveQoS2(st.id)
				} else {
					got = s.Release(st.id)
				}
				if got != st.want {
					t.Errorf("%s(%d) = %v, want %v", st.op, st.id, got, st.want)
				}
			}
		})
	}
}

func TestSession_Stats(t *testing.T) {
	s := online(Options{MaxInflight: 1})
	s.Publish(msg("a", 1), t0)
	s.Publish(msg("b", 1), t0.Add(time.Second))
	s.ReceiveQoS2(5)
	st := s.Stats(t0.Add(10 * time.Second))
	want := Stats{Inflight: 1, Queued: 1, QueuedBytes: 4, InboundQoS2: 1, OldestQueued: 9 * time.Second, OldestUnacked: 10 * time.Second}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
	if st := s.Stats(t0.Add(-time.Hour)); st.OldestQueued != 0 || st.OldestUnacked != 0 {
		t.Errorf("ages with a clock behind the stamps = %+v, want 0", st)
	}
}

func TestResult_String(t *testing.T) {
	for r, want := range map[Result]string{Send: "send", Queued: "queued", Dropped: "dropped", 9: "unknown"} {
		if got := r.String(); got != want {
			t.Errorf("Result(%d).String() = %q, want %q", r, got, want)
		}
	}
}

func TestFifo_compacts(t *testing.T) {
	var q fifo
	for i := range 200 {
		q.push(entry{id: uint16(i + 1)})
	}
	for i := range 150 {
		if got := q.peek().id; got != uint16(i+1) {
			t.Fatalf("peek = %d, want %d", got, i+1)
		}
		q.pop()
	}
	if q.len() != 50 || q.head >= 64 {
		t.Fatalf("len %d head %d: want 50 entries and a compacted head", q.len(), q.head)
	}
	for q.len() > 0 {
		q.pop()
	}
	if q.items != nil {
		t.Errorf("drained queue keeps a %d-entry array", cap(q.items))
	}
}

// TestSession_MaxQueuedBytes: the queue holds at most MaxQueuedBytes of
// topics and payloads (one message always fits); what leaves the queue
// makes room again.
func TestSession_MaxQueuedBytes(t *testing.T) {
	s := New(Options{MaxQueued: 100, MaxQueuedBytes: 250})
	big := make([]byte, 99) // 100 bytes with topic "t"
	var results []Result
	for range 4 {
		_, r := s.Publish(Message{Topic: "t", Payload: big, QoS: 1}, t0)
		results = append(results, r)
	}
	if want := []Result{Queued, Queued, Dropped, Dropped}; !reflect.DeepEqual(results, want) {
		t.Fatalf("results %v, want %v", results, want)
	}
	if st := s.Stats(t0); st.QueuedBytes != 200 || st.Dropped != 2 {
		t.Fatalf("stats %+v, want 200 bytes queued, 2 dropped", st)
	}
	s.Resume(t0)
	out, _ := s.Next(t0)
	s.Ack(out.PacketID)
	if st := s.Stats(t0); st.QueuedBytes != 100 {
		t.Fatalf("after one left the queue: %d bytes, want 100", st.QueuedBytes)
	}
	s.Disconnect()
	if _, r := s.Publish(Message{Topic: "t", Payload: big, QoS: 1}, t0); r != Queued {
		t.Fatalf("with room again: %v", r)
	}
	huge := New(Options{MaxQueuedBytes: 10})
	if _, r := huge.Publish(Message{Topic: "t", Payload: big, QoS: 1}, t0); r != Queued {
		t.Fatalf("a message larger than the bound into an empty queue: %v, want queued", r)
	}
}
