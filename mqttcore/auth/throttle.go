package auth

import (
	"context"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Throttling of password checks. A bcrypt check at cost 10 costs tens of
// milliseconds of one core, so an attacker who opens many connections with
// wrong passwords could keep every core busy and make a legitimate login
// wait behind hundreds of checks. Three things prevent that:
//
//   - at most GOMAXPROCS (the number of usable cores) bcrypt checks run
//     at once; others wait for a slot (gate);
//   - a check from an address that failed recently (a strike), or that
//     has another check under way, waits behind every other one, in a
//     queue of at most maxLowWaiters: a client from elsewhere gets the next
//     free slot, and the queue's overflow is refused (0x03, server
//     unavailable) without any check;
//   - a failure is answered only after a penalty that grows with the
//     address's recent failures (strikeBase, doubling up to strikeMax),
//     spent on a timer: it costs no CPU and slows down attackers who wait
//     for their CONNACK.
//
// Credentials that passed before are accepted from the cache without any of
// this, so clients that logged in once stay fast under attack. An IPv6
// address counts by its /64 prefix, which one host usually controls whole.

// Throttling parameters.
const (
	// maxLowWaiters bounds how many checks from addresses with strikes
	// may wait for a slot.
	maxLowWaiters = 64
	// strikeBase is the penalty after a first failure; it doubles with
	// every further failure up to strikeMax.
	strikeBase = 100 * time.Millisecond
	strikeMax  = 3 * time.Second
	// strikeForget is how long after its last failure an address is
	// forgotten.
	strikeForget = time.Minute
	// maxStrikes bounds the table of addresses with strikes.
	maxStrikes = 4096
)

// gate admits at most n concurrent holders; waiters without strikes go
// before waiters with strikes, each in arrival order.
type gate struct {
	mu        sync.Mutex
	free      int
	high, low []chan struct{} // closed when handed a slot
}

func newGate() *gate { return &gate{free: max(1, runtime.GOMAXPROCS(0))} }

// acquire waits for a slot and reports whether it got one: false when ctx
// ended first or, for a low-priority caller, when the low queue is full.
func (g *gate) acquire(ctx context.Context, high bool) bool {
	g.mu.Lock()
	if g.free > 0 {
		g.free--
		g.mu.Unlock()
		return true
	}
	if !high && len(g.low) >= maxLowWaiters {
		g.mu.Unlock()
		return false
	}
	ch := make(chan struct{})
	if high {
		g.high = append(g.high, ch)
	} else {
		g.low = append(g.low, ch)
	}
	g.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	}
	g.mu.Lock()
	waiting := g.dequeue(ch)
	g.mu.Unlock()
	if !waiting { // handed a slot as ctx ended: pass it on
		g.release()
	}
	return false
}

// release frees a slot, handing it to the first waiter if any.
func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, q := range []*[]chan struct{}{&g.high, &g.low} {
		if len(*q) > 0 {
			close((*q)[0])
			*q = (*q)[1:]
			return
		}
	}
	g.free++
}

// dequeue removes ch from the queues and reports whether it was there.
// g.mu must be held.
func (g *gate) dequeue(ch chan struct{}) bool {
	for _, q := range []*[]chan struct{}{&g.high, &g.low} {
		if i := slices.Index(*q, ch); i >= 0 {
			*q = slices.Delete(*q, i, i+1)
			return true
		}
	}
	return false
}

// strikes counts recent failures and checks under way by address.
type strikes struct {
	mu   sync.Mutex
	m    map[netip.Addr]strike
	busy map[netip.Addr]int // checks under way
}

type strike struct {
	n    int
	last time.Time
}

// strikeKey returns the address strikes are counted under: the /64 of an IPv6
// address.
func strikeKey(addr netip.Addr) netip.Addr {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.Addr()
	}
	return addr
}

// hasLocked reports whether the address with key k failed within
// strikeForget.
func (s *strikes) hasLocked(k netip.Addr, now time.Time) bool {
	st, ok := s.m[k]
	return ok && now.Sub(st.last) < strikeForget
}

// begin records a check from addr under way and reports whether it has
// priority: the address has no strike and no other check under way. Call
// end when the check is over.
func (s *strikes) begin(addr netip.Addr, now time.Time) bool {
	if !addr.IsValid() {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy == nil {
		s.busy = make(map[netip.Addr]int)
	}
	k := strikeKey(addr)
	s.busy[k]++
	return s.busy[k] == 1 && !s.hasLocked(k, now)
}

// end records the end of a check begun with begin.
func (s *strikes) end(addr netip.Addr) {
	if !addr.IsValid() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strikeKey(addr)
	if s.busy[k]--; s.busy[k] <= 0 {
		delete(s.busy, k)
	}
}

// fail records a failure of addr and returns the penalty to wait.
func (s *strikes) fail(addr netip.Addr, now time.Time) time.Duration {
	if !addr.IsValid() {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[netip.Addr]strike)
	}
	k := strikeKey(addr)
	st, ok := s.m[k]
	if !ok && len(s.m) >= maxStrikes {
		s.evictLocked(now)
	}
	if now.Sub(st.last) >= strikeForget {
		st.n = 0
	}
	st.n++
	st.last = now
	s.m[k] = st
	return min(strikeBase<<min(st.n-1, 10), strikeMax)
}

// forgive forgets addr's failures after a successful login.
func (s *strikes) forgive(addr netip.Addr) {
	if !addr.IsValid() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, strikeKey(addr))
}

// evictLocked makes room: expired entries go, or else an arbitrary one.
func (s *strikes) evictLocked(now time.Time) {
	for k, st := range s.m {
		if now.Sub(st.last) >= strikeForget {
			delete(s.m, k)
		}
	}
	if len(s.m) >= maxStrikes {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
