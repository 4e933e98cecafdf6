package auth

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/topic"
)

// hash returns a bcrypt hash of password at the given cost (MinCost keeps
// tests fast).
func hash(t *testing.T, password string, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// countBcrypt makes a count its bcrypt comparisons.
func countBcrypt(a *Auth) *atomic.Int64 {
	var n atomic.Int64
	compare := a.compare
	a.compare = func(h, p []byte) error {
		n.Add(1)
		return compare(h, p)
	}
	return &n
}

func mustNew(t *testing.T, anon bool, users []User, rules []Rule) *Auth {
	t.Helper()
	a, err := New(anon, users, rules)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestNew_Valid(t *testing.T) {
	_, err := New(false,
		[]User{{"app", hash(t, "pw", bcrypt.MinCost)}, {"ops", hash(t, "x", bcrypt.MinCost)}},
		[]Rule{{"app", "sensors/#", Read}, {"", "clients/%c/#", ReadWrite}, {"", "%u/+/x", Write}, {"", "#", Deny}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNew_ReportsEveryError(t *testing.T) {
	good := hash(t, "pw", bcrypt.MinCost)
	users := []User{
		{"", good},          // no username
		{"app", good},       //
		{"app", good},       // duplicate
		{"plain", "secret"}, // not a hash
		{"empty", ""},       // no hash
		{"cost", "$2a$99$" + strings.Repeat("a", 53)}, // cost out of range
	}
	rules := []Rule{
		{"", "a/#/b", Read},     // '#' not last
		{"", "a+/b", Write},     // '+' glued
		{"", "", ReadWrite},     // empty topic
		{"", "ok/#", 0},         // access forgotten
		{"", "ok/+", Access(9)}, // access out of range
	}
	_, err := New(true, users, rules)
	if err == nil {
		t.Fatal("New accepted an invalid configuration")
	}
	for _, want := range []error{ErrNoUsername, ErrDuplicateUser, ErrInvalidHash, ErrInvalidAccess,
		topic.ErrMultiLevelWildcard, topic.ErrSingleLevelWildcard, topic.ErrEmpty} {
		if !errors.Is(err, want) {
			t.Errorf("error does not wrap %v:\n%v", want, err)
		}
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 10 {
		t.Errorf("got %d joined errors, want 10 (one per problem):\n%v", n, err)
	}
	for _, s := range []string{`users[4] ("empty")`, `rules[2]`, "auth: "} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not name %s:\n%v", s, err)
		}
	}
	if strings.Contains(err.Error(), good) {
		t.Error("error message contains a password hash")
	}
}

// TestAuth_Authenticate_HashVariants accepts the bcrypt prefixes other
// tools write: htpasswd writes $2y$, OpenBSD and Python $2b$.
func TestAuth_Authenticate_HashVariants(t *testing.T) {
	h := hash(t, "pw", bcrypt.MinCost) // "$2a$04$..."
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		a := mustNew(t, false, []User{{"app", prefix + h[4:]}}, nil)
		if got := a.Authenticate("app", []byte("pw"), true, true); got != packet.Accepted {
			t.Errorf("%s hash: Authenticate = %#x", prefix, byte(got))
		}
		if got := a.Authenticate("app", []byte("px"), true, true); got != packet.RefusedBadUsernamePassword {
			t.Errorf("%s hash, wrong password: Authenticate = %#x", prefix, byte(got))
		}
	}
}

// With anonymous clients allowed and no users configured, a username is an
// identity for ACL rules only, as with Mosquitto without a password file.
func TestAuth_Authenticate_noUsers(t *testing.T) {
	rules := []Rule{{Topic: "clients/%u/#", Access: ReadWrite}}
	open := mustNew(t, true, nil, rules)
	if got := open.Authenticate("bob", []byte("x"), true, true); got != packet.Accepted {
		t.Errorf("anonymous allowed, no users: Authenticate(bob) = %#x, want accepted", byte(got))
	}
	if got := open.Authenticate("bob", nil, true, false); got != packet.Accepted {
		t.Errorf("anonymous allowed, no users, no password: Authenticate(bob) = %#x, want accepted", byte(got))
	}
	if got := open.Authenticate("", []byte("x"), false, true); got != packet.RefusedBadUsernamePassword {
		t.Errorf("password without username = %#x, want 0x04 [MQTT-3.1.2-22]", byte(got))
	}
	closed := mustNew(t, false, nil, rules)
	if got := closed.Authenticate("bob", []byte("x"), true, true); got != packet.RefusedBadUsernamePassword {
		t.Errorf("anonymous refused, no users: Authenticate(bob) = %#x, want 0x04", byte(got))
	}
}

func TestParseAccess(t *testing.T) {
	for _, want := range []Access{Read, Write, ReadWrite, Deny} {
		got, err := ParseAccess(want.String())
		if err != nil || got != want {
			t.Errorf("ParseAccess(%q) = %v, %v", want.String(), got, err)
		}
	}
	for _, s := range []string{"", "READ", "rw", "read write", "allow"} {
		if _, err := ParseAccess(s); !errors.Is(err, ErrInvalidAccess) {
			t.Errorf("ParseAccess(%q) error = %v, want ErrInvalidAccess", s, err)
		}
	}
}

func TestAuth_Authenticate(t *testing.T) {
	users := []User{{"app", hash(t, "s3cret", bcrypt.MinCost)}, {"nopw", hash(t, "", bcrypt.MinCost)}}
	tests := []struct {
		name       string
		anon       bool
		user       string
		pw         string
		hasU, hasP bool
		want       packet.ConnackCode
	}{
		{"anonymous allowed", true, "", "", false, false, packet.Accepted},
		{"anonymous refused", false, "", "", false, false, packet.RefusedNotAuthorized},
		{"password without username", true, "", "s3cret", false, true, packet.RefusedBadUsernamePassword},
		{"password without username, no anonymous", false, "", "s3cret", false, true, packet.RefusedBadUsernamePassword},
		{"right password", false, "app", "s3cret", true, true, packet.Accepted},
		{"right password, anonymous allowed", true, "app", "s3cret", true, true, packet.Accepted},
		{"wrong password", false, "app", "s3cre", true, true, packet.RefusedBadUsernamePassword},
		{"wrong password, anonymous allowed", true, "app", "S3cret", true, true, packet.RefusedBadUsernamePassword},
		{"username without password", false, "app", "", true, false, packet.RefusedBadUsernamePassword},
		{"username without password, anonymous allowed", true, "app", "", true, false, packet.RefusedBadUsernamePassword},
		{"unknown user", false, "bob", "s3cret", true, true, packet.RefusedBadUsernamePassword},
		{"unknown user, anonymous allowed", true, "bob", "s3cret", true, true, packet.RefusedBadUsernamePassword},
		{"empty username flag set", true, "", "s3cret", true, true, packet.RefusedBadUsernamePassword},
		{"empty password is a password", false, "nopw", "", true, true, packet.Accepted},
		{"username is case sensitive", false, "App", "s3cret", true, true, packet.RefusedBadUsernamePassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustNew(t, tt.anon, users, nil)
			if got := a.Authenticate(tt.user, []byte(tt.pw), tt.hasU, tt.hasP); got != tt.want {
				t.Fatalf("Authenticate = %#x, want %#x", byte(got), byte(tt.want))
			}
		})
	}
}

func TestAuth_Authenticate_CachesSuccessOnly(t *testing.T) {
	a := mustNew(t, false, []User{{"app", hash(t, "pw", bcrypt.MinCost)}, {"ops", hash(t, "pw", bcrypt.MinCost)}}, nil)
	calls := countBcrypt(a)
	step := func(user, pw string, want packet.ConnackCode, wantCalls int64) {
		t.Helper()
		if got := a.Authenticate(user, []byte(pw), true, true); got != want {
			t.Fatalf("Authenticate(%q, %q) = %#x, want %#x", user, pw, byte(got), byte(want))
		}
		if n := calls.Load(); n != wantCalls {
			t.Fatalf("after Authenticate(%q, %q): %d bcrypt calls, want %d", user, pw, n, wantCalls)
		}
	}
	step("app", "pw", packet.Accepted, 1)
	step("app", "pw", packet.Accepted, 1) // cached
	step("app", "pw", packet.Accepted, 1)
	step("app", "wrong", packet.RefusedBadUsernamePassword, 2)
	step("app", "wrong", packet.RefusedBadUsernamePassword, 3) // failures are not cached
	step("app", "pw2", packet.RefusedBadUsernamePassword, 4)
	step("ops", "pw", packet.Accepted, 5) // same password, other user: its own check
	step("ops", "pw", packet.Accepted, 5)
	step("nobody", "pw", packet.RefusedBadUsernamePassword, 6) // unknown user: bcrypt on the dummy
	step("nobody", "pw", packet.RefusedBadUsernamePassword, 7)
	// A username/password split must not collide with another: "app"+"pw"
	// and "ap"+"ppw" are different credentials.
	step("ap", "ppw", packet.RefusedBadUsernamePassword, 8)
}

func TestAuth_Authenticate_CacheBounded(t *testing.T) {
	var users []User
	for _, u := range []string{"u1", "u2", "u3", "u4"} {
		users = append(users, User{u, hash(t, "pw-"+u, bcrypt.MinCost)})
	}
	a := mustNew(t, false, users, nil)
	a.maxCache = 2
	calls := countBcrypt(a)
	for round := range 3 {
		for _, u := range users {
			if got := a.Authenticate(u.Username, []byte("pw-"+u.Username), true, true); got != packet.Accepted {
				t.Fatalf("round %d, %s: %#x", round, u.Username, byte(got))
			}
			if n := len(a.verified); n > 2 {
				t.Fatalf("cache holds %d entries, limit 2", n)
			}
		}
	}
	if n := calls.Load(); n < 5 {
		t.Fatalf("%d bcrypt calls for 12 logins of 4 users through a 2-entry cache: eviction did not happen", n)
	}
}

// TestAuth_Authenticate_ReconnectStorm logs the same credentials in from
// many goroutines at once: exactly one bcrypt check runs. The first check
// is held until every goroutine is blocked (synctest.Wait), so without
// sharing, all of them would be inside bcrypt at that point.
func TestAuth_Authenticate_ReconnectStorm(t *testing.T) {
	h := hash(t, "pw", bcrypt.MinCost)
	synctest.Test(t, func(t *testing.T) {
		a := mustNew(t, false, []User{{"app", h}}, nil)
		release := make(chan struct{})
		var calls atomic.Int64
		a.compare = func(hash, pw []byte) error {
			calls.Add(1)
			<-release
			return bcrypt.CompareHashAndPassword(hash, pw)
		}
		const clients = 32
		var wg sync.WaitGroup
		var accepted atomic.Int64
		for range clients {
			wg.Go(func() {
				if a.Authenticate("app", []byte("pw"), true, true) == packet.Accepted {
					accepted.Add(1)
				}
			})
		}
		synctest.Wait()
		if n := calls.Load(); n != 1 {
			t.Errorf("%d bcrypt checks in flight for %d concurrent logins with the same credentials, want 1", n, clients)
		}
		close(release)
		wg.Wait()
		if n := accepted.Load(); n != clients {
			t.Fatalf("%d of %d logins accepted", n, clients)
		}
		if a.Authenticate("app", []byte("pw"), true, true) != packet.Accepted || calls.Load() != 1 {
			t.Fatalf("a later login ran bcrypt again (%d checks)", calls.Load())
		}
	})
}

func TestNew_DummyHashHasUsualCost(t *testing.T) {
	tests := []struct {
		name  string
		costs []int
		want  int
	}{
		{"one cost", []int{bcrypt.MinCost}, bcrypt.MinCost},
		{"majority", []int{5, 4, 4}, 4},
		{"tie takes higher", []int{4, 5}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var users []User
			for i, c := range tt.costs {
				users = append(users, User{string(rune('a' + i)), hash(t, "pw", c)})
			}
			a := mustNew(t, false, users, nil)
			if got, err := bcrypt.Cost(a.dummy); err != nil || got != tt.want {
				t.Fatalf("dummy cost = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

// Smaller item of issue 9: bcrypt reads 72 bytes; a longer password whose
// first 72 bytes are right must not pass.
func TestAuth_Authenticate_LongPassword(t *testing.T) {
	pw := strings.Repeat("p", MaxPasswordLen)
	a := mustNew(t, false, []User{{"app", hash(t, pw, bcrypt.MinCost)}}, nil)
	if got := a.Authenticate("app", []byte(pw), true, true); got != packet.Accepted {
		t.Fatalf("72-byte password: %#x, want accepted", byte(got))
	}
	if got := a.Authenticate("app", []byte(pw+"anything"), true, true); got != packet.RefusedBadUsernamePassword {
		t.Fatalf("80-byte password with the right first 72 bytes: %#x, want 0x04", byte(got))
	}
}

// The gate hands a freed slot to a waiter without strikes first, and
// refuses low-priority callers beyond maxLowWaiters.
func TestGate_priority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gate{free: 1}
		ctx := context.Background()
		if !g.acquire(ctx, true) {
			t.Fatal("first acquire failed")
		}
		var order []string
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, w := range []struct {
			name string
			high bool
		}{{"low1", false}, {"low2", false}, {"high", true}} {
			wg.Go(func() {
				if g.acquire(ctx, w.high) {
					mu.Lock()
					order = append(order, w.name)
					mu.Unlock()
					g.release()
				}
			})
			synctest.Wait() // queued in this order
		}
		for range maxLowWaiters - 2 {
			wg.Go(func() {
				if g.acquire(ctx, false) {
					g.release()
				}
			})
		}
		synctest.Wait()
		if g.acquire(ctx, false) {
			t.Fatal("a low-priority caller beyond maxLowWaiters got a slot")
		}
		g.release()
		wg.Wait()
		if got := strings.Join(order, ","); got != "high,low1,low2" {
			t.Fatalf("slots went to %s, want high,low1,low2", got)
		}
	})
}

// A waiter whose context ends leaves the queue; a slot it was handed at
// that moment goes to the next waiter.
func TestGate_cancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gate{free: 1}
		g.acquire(context.Background(), true)
		ctx, cancel := context.WithCancel(context.Background())
		got := make(chan bool, 1)
		go func() { got <- g.acquire(ctx, true) }()
		synctest.Wait()
		cancel()
		if <-got {
			t.Fatal("acquire after cancel reported a slot")
		}
		g.release()
		if !g.acquire(context.Background(), false) {
			t.Fatal("the slot was lost")
		}
	})
}

// A failure from an address is answered after a penalty that grows with
// its failures (on the fake clock: no CPU); a success forgives it; other
// addresses are not slowed.
func TestAuth_AuthenticateFrom_penalty(t *testing.T) {
	h := hash(t, "pw", bcrypt.MinCost)
	synctest.Test(t, func(t *testing.T) {
		a := mustNew(t, false, []User{{"app", h}}, nil)
		bad, good := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
		ctx := context.Background()
		timed := func(addr netip.Addr, pw string, want packet.ConnackCode) time.Duration {
			t.Helper()
			start := time.Now()
			if got := a.AuthenticateFrom(ctx, addr, "app", []byte(pw), true, true); got != want {
				t.Fatalf("AuthenticateFrom(%v, %q) = %#x, want %#x", addr, pw, byte(got), byte(want))
			}
			return time.Since(start)
		}
		for i, want := range []time.Duration{strikeBase, 2 * strikeBase, 4 * strikeBase} {
			if d := timed(bad, "wrong", packet.RefusedBadUsernamePassword); d != want {
				t.Fatalf("failure %d took %v, want %v", i+1, d, want)
			}
		}
		if !a.strikes.has(bad, time.Now()) {
			t.Fatal("no strike recorded")
		}
		if d := timed(good, "pw", packet.Accepted); d != 0 {
			t.Fatalf("a login from a clean address took %v", d)
		}
		if d := timed(bad, "pw", packet.Accepted); d != 0 {
			t.Fatalf("a right password took %v", d)
		}
		if a.strikes.has(bad, time.Now()) {
			t.Fatal("a success did not forgive the address")
		}
		time.Sleep(strikeForget)
		if d := timed(good, "nope", packet.RefusedBadUsernamePassword); d != strikeBase {
			t.Fatalf("first failure of another address took %v", d)
		}
	})
}

func TestStrikeKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":               "192.0.2.7",
		"::ffff:192.0.2.7":        "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":    "2001:db8:1:2::",
		"2001:db8:1:2:ffff::1234": "2001:db8:1:2::",
	} {
		if got := strikeKey(netip.MustParseAddr(in)); got.String() != want {
			t.Errorf("strikeKey(%s) = %s, want %s", in, got, want)
		}
	}
}

// The table of addresses with strikes stays within maxStrikes: a new
// address makes room by dropping expired entries, or else one entry.
func TestStrikes_fail_bounded(t *testing.T) {
	var s strikes
	now := time.Now()
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	const expired = 10
	for i := range maxStrikes {
		at := now
		if i < expired {
			at = now.Add(-strikeForget)
		}
		s.fail(addr(i), at)
	}
	s.fail(addr(maxStrikes), now)
	if got, want := len(s.m), maxStrikes-expired+1; got != want {
		t.Fatalf("%d addresses after the table filled up with %d expired, want %d", got, expired, want)
	}
	for i := range expired {
		s.fail(addr(maxStrikes+1+i), now)
	}
	if len(s.m) != maxStrikes {
		t.Fatalf("%d addresses, want %d", len(s.m), maxStrikes)
	}
	if !s.has(addr(maxStrikes+expired), now) {
		t.Fatal("the newest address has no strike")
	}
}

// has reports whether addr failed within strikeForget.
func (s *strikes) has(addr netip.Addr, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return addr.IsValid() && s.hasLocked(strikeKey(addr), now)
}
