package broker

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// TestBroker_SetListeners: a reload keeps an unchanged listener and its
// clients, closes a dropped one with its clients, and binds a new one; a
// listener that cannot be bound fails the call and the replaced one is
// bound again.
func TestBroker_SetListeners(t *testing.T) {
	opts := testOptions(t)
	keep := Listener{Address: "127.0.0.1:0"}
	drop := Listener{Address: "127.0.0.1:0", WebSocketPath: "/mqtt"}
	opts.Listeners = []Listener{keep, drop}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addrs := runBroker(t, b)
	kept := paho(t, addrs[0].String(), uniqueID(t, "kept"), true)
	in := subscribe(t, kept, "x/#", 1)

	added := Listener{Address: "127.0.0.1:0"}
	if err := b.SetListeners([]Listener{keep, added}); err != nil {
		t.Fatal(err)
	}
	now := b.Addrs()
	if len(now) != 2 || now[0].String() != addrs[0].String() {
		t.Fatalf("after SetListeners: addrs %v, want the kept %v first", now, addrs[0])
	}
	if now[1].String() == addrs[1].String() {
		t.Fatalf("the dropped listener %v is still bound", addrs[1])
	}
	if c, err := net.Dial("tcp", addrs[1].String()); err == nil {
		c.Close()
		t.Errorf("the dropped listener %v still accepts connections", addrs[1])
	}
	other := paho(t, now[1].String(), uniqueID(t, "added"), true)
	publish(t, other, "x/1", 1, false, "through the new listener")
	in.expect(t, "x/1", "through the new listener")
	if !kept.IsConnectionOpen() {
		t.Error("the client of the unchanged listener was disconnected")
	}

	// A new listener on a busy address: an error, and the listener it
	// replaced is bound again.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	err = b.SetListeners([]Listener{keep, {Address: busy.Addr().String()}})
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("SetListeners on a busy address: %v, want EADDRINUSE", err)
	}
	if got := b.Addrs(); len(got) != 2 || got[0].String() != addrs[0].String() {
		t.Fatalf("after the failed SetListeners: addrs %v", got)
	}
	back := b.Addrs()[1].String()
	paho(t, back, uniqueID(t, "rebound"), true)
}
