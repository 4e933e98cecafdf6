package broker

import (
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// snapshot returns a copy of the store: what a crash at this moment leaves.
func (s *memStore) snapshot() *memStore {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &memStore{m: maps.Clone(s.m)}
}

// TestBroker_held_crashWhileConnected: a persistent subscriber is connected
// while a publisher sends QoS 1 and 2 messages; at a random moment the
// store is copied (what a crash leaves) and a second broker starts on the
// copy. Every message the publisher got its acknowledgement for before
// the copy reached the subscriber before it, or after the restart.
func TestBroker_held_crashWhileConnected(t *testing.T) {
	for round := range 4 {
		sessions, messages := newMemStore(), newMemStore()
		opts := heldOptions(t, sessions, messages)
		opts.CommitDelay = 5 * time.Millisecond
		b1, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		addr, stop := runUntilStopped(t, b1)
		subID := uniqueID(t, fmt.Sprint("sub", round))
		var mu sync.Mutex
		got := map[string]bool{}
		record := func(_ mqtt.Client, m mqtt.Message) {
			mu.Lock()
			got[strings.Fields(string(m.Payload()))[0]] = true
			mu.Unlock()
		}
		withRecord := func(o *mqtt.ClientOptions) { o.SetDefaultPublishHandler(record) }
		sub, tok := pahoConnect(t, addr, subID, false, withRecord)
		done(t, tok, "connect")
		done(t, sub.Subscribe("h/#", 2, nil), "subscribe")

		var amu sync.Mutex
		var acked []string
		pub := paho(t, addr, uniqueID(t, "pub"), true)
		stopPub := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopPub:
					return
				default:
				}
				id := fmt.Sprintf("m%d-%d", round, i)
				tk := pub.Publish("h/x", byte(1+i%2), false, id+" payload")
				wg.Go(func() {
					if tk.WaitTimeout(5*time.Second) && tk.Error() == nil {
						amu.Lock()
						acked = append(acked, id)
						amu.Unlock()
					}
				})
				if i%8 == 7 {
					tk.WaitTimeout(5 * time.Second)
				}
			}
		})
		time.Sleep(time.Duration(100+50*round) * time.Millisecond)
		amu.Lock()
		ackedAtCrash := append([]string(nil), acked...)
		amu.Unlock()
		s1, m1 := sessions.snapshot(), messages.snapshot()
		close(stopPub)
		wg.Wait()
		sub.Disconnect(0)
		stop()

		addr2 := crashRestart(t, heldOptions(t, s1, m1))
		_, tok = pahoConnect(t, addr2, subID, false, withRecord)
		done(t, tok, "reconnect")
		waitFor(t, "the held messages", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ackedAtCrash {
				if !got[id] {
					return false
				}
			}
			return true
		})
		t.Logf("round %d: %d acknowledged before the crash, all received", round, len(ackedAtCrash))
	}
}
