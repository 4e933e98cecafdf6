package broker

import (
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Finding 4, in part: an abandoned persistent session expires after
// SessionExpiry with its subscriptions and queue, in memory and in the
// store; one whose client is connected does not.
func TestBroker_sessionExpiry(t *testing.T) {
	store := newMemStore()
	opts := testOptions(t)
	opts.Listeners = []Listener{{Address: "127.0.0.1:0"}}
	opts.Sessions, opts.SessionExpiry, opts.PersistInterval = store, 300*time.Millisecond, 50*time.Millisecond
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := runUntilStopped(t, b)
	gone := paho(t, addr, uniqueID(t, "gone"), false)
	subscribe(t, gone, "fleet/#", 1)
	stays := paho(t, addr, uniqueID(t, "stays"), false)
	subscribe(t, stays, "fleet/#", 1)
	gone.Disconnect(100)
	waitFor(t, "the abandoned session to expire", func() bool { return b.Stats().SessionsExpired == 1 })
	waitFor(t, "the store to forget it", func() bool { return len(store.keys()) == 1 })
	if st := b.Stats(); st.Sessions != 1 || st.Subscriptions != 1 {
		t.Fatalf("%d sessions, %d subscriptions after expiry; want 1, 1", st.Sessions, st.Subscriptions)
	}
	_, tok := pahoConnect(t, addr, uniqueID(t, "gone"), false)
	done(t, tok, "reconnect")
	if tok.SessionPresent() {
		t.Fatal("the expired session was resumed")
	}
	if !stays.IsConnectionOpen() {
		t.Fatal("a connected client lost its connection")
	}
}

// Finding 4, in part: at most MaxSessions persistent sessions; a client
// that would create one more is refused with 0x03, while clean sessions and
// resuming an existing session still work.
func TestBroker_maxSessions(t *testing.T) {
	opts := testOptions(t)
	opts.MaxSessions = 2
	b, addr := startBroker(t, opts)
	for _, id := range []string{"p1", "p2"} {
		c, _ := connectRaw(t, addr, uniqueID(t, id), false)
		c.send(&packet.Disconnect{})
		c.expectClosed()
	}
	c := dialRaw(t, addr)
	c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: uniqueID(t, "p3"), KeepAlive: 60})
	c.expectPacket(&packet.Connack{ReturnCode: packet.RefusedServerUnavailable})
	connectRaw(t, addr, uniqueID(t, "clean"), true)
	if _, ack := connectRaw(t, addr, uniqueID(t, "p1"), false); !ack.SessionPresent {
		t.Fatal("resuming an existing session failed")
	}
	if st := b.Stats(); st.SessionsRefused != 1 {
		t.Fatalf("SessionsRefused = %d, want 1", st.SessionsRefused)
	}
}

// A persistent session that a returning client has claimed (takeSession,
// session present) but not attached yet does not expire under it: it
// would be attached discarded, its subscriptions gone.
func TestBroker_expireSessions_claimed(t *testing.T) {
	opts := testOptions(t)
	opts.SessionExpiry = time.Minute
	b, addr := startBroker(t, opts)
	id := uniqueID(t, "c")
	c, _ := connectRaw(t, addr, id, false)
	c.send(&packet.Disconnect{})
	c.expectClosed()
	waitFor(t, "the client to be away", func() bool {
		b.mu.Lock()
		s := b.sessions[id]
		b.mu.Unlock()
		s.mu.Lock()
		defer s.mu.Unlock()
		return !s.away.IsZero()
	})
	if _, present, ok := b.takeSession(&client{b: b, id: id}); !present || !ok {
		t.Fatalf("takeSession: present %v, ok %v", present, ok)
	}
	if n := b.expireSessions(time.Now().Add(time.Hour)); n != 0 {
		t.Fatalf("%d claimed sessions expired", n)
	}
}
