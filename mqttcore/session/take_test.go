package session

import (
	"slices"
	"testing"
)

// Take removes the picked messages not acknowledged: queued ones, and
// those in flight once the session is offline, except a QoS 2 message
// whose PUBREC arrived. What stays keeps its order and identifiers.
func TestSession_Take(t *testing.T) {
	s := online(Options{MaxInflight: 3})
	shared := func(topic string, qos byte) Message { m := msg(topic, qos); m.Shared = "$share/g/#"; return m }
	a := mustSend(t, s, shared("a", 1))
	mustSend(t, s, msg("b", 1))
	c := mustSend(t, s, shared("c", 2))
	s.Publish(shared("d", 1), t0) // queued
	s.Publish(msg("e", 1), t0)    // queued
	s.Received(c.PacketID)        // c stays: PUBREL owed
	pick := func(m *Message) bool { return m.Shared != "" }

	if got := s.Take(pick); !slices.EqualFunc(got, []Message{shared("d", 1)}, sameTopic) {
		t.Fatalf("online: took %v, want the queued d only", got)
	}
	s.Disconnect()
	if got := s.Take(pick); !slices.EqualFunc(got, []Message{shared("a", 1)}, sameTopic) {
		t.Fatalf("offline: took %v, want a", got)
	}
	if _, ok := s.Ack(a.PacketID); ok {
		t.Error("a is still in flight")
	}
	out := s.Resume(t0)
	var topics []string
	for _, o := range out {
		topics = append(topics, o.Topic)
	}
	if !slices.Equal(topics, []string{"b", "c"}) || !out[1].Pubrel {
		t.Errorf("resume: %+v", out)
	}
	if n, ok := s.Next(t0); !ok || n.Topic != "e" {
		t.Errorf("next: %+v %v", n, ok)
	}
	if s.Len() != 3 || s.qbytes != 0 {
		t.Errorf("len %d, queued bytes %d", s.Len(), s.qbytes)
	}
}

func sameTopic(a, b Message) bool { return a.Topic == b.Topic }
