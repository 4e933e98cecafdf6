package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Authenticate checks a CONNECT's credentials and returns the CONNACK
// return code:
//
//   - [packet.Accepted]: a known user with the right password, or no
//     username while anonymous clients are allowed, or — as Mosquitto does
//     without a password file — any username while anonymous clients are
//     allowed and no users are configured (the name then only feeds %u in
//     ACL rules);
//   - [packet.RefusedBadUsernamePassword] (0x04): unknown user, wrong or
//     missing password, a password longer than [MaxPasswordLen], or a
//     password without a username [MQTT-3.1.2-22];
//   - [packet.RefusedNotAuthorized] (0x05): no username while anonymous
//     clients are not allowed.
//
// The has* arguments are the CONNECT's User Name and Password flags.
// A first successful check costs one bcrypt comparison, run when one of
// the bounded bcrypt slots is free; see the package doc for the cache and
// for how unknown users are hidden. The broker calls
// [Auth.AuthenticateFrom], which also throttles addresses that failed.
func (a *Auth) Authenticate(username string, password []byte, hasUsername, hasPassword bool) packet.ConnackCode {
	return a.AuthenticateFrom(context.Background(), netip.Addr{}, username, password, hasUsername, hasPassword)
}

// AuthenticateFrom is [Auth.Authenticate] for a CONNECT from addr, with the
// throttling described in the package doc: it may wait for a bcrypt slot
// and, after a failure, for the address's penalty, both until ctx ends. It
// returns [packet.RefusedServerUnavailable] when too many checks from
// addresses with recent failures are waiting or ctx ended first. A zero
// addr is not tracked.
func (a *Auth) AuthenticateFrom(ctx context.Context, addr netip.Addr, username string, password []byte, hasUsername, hasPassword bool) packet.ConnackCode {
	switch {
	case !hasUsername && hasPassword:
		return packet.RefusedBadUsernamePassword
	case !hasUsername && a.allowAnonymous:
		return packet.Accepted
	case a.allowAnonymous && len(a.users) == 0:
		return packet.Accepted
	case !hasUsername:
		return packet.RefusedNotAuthorized
	case !hasPassword: // decided without looking the user up, so it reveals nothing
		return packet.RefusedBadUsernamePassword
	}
	code := a.verify(ctx, addr, username, password)
	switch code {
	case packet.Accepted:
		a.strikes.forgive(addr)
	case packet.RefusedBadUsernamePassword, packet.RefusedServerUnavailable:
		// An overflow of the queue counts too: only addresses with
		// strikes are refused that way.
		sleep(ctx, a.strikes.fail(addr, time.Now()))
	}
	return code
}

// MaxPasswordLen is the longest password accepted: bcrypt reads only the
// first 72 bytes, so a longer one is refused rather than checked in part.
const MaxPasswordLen = 72

//

// verify checks password for username: from the cache, or with one bcrypt
// check shared by concurrent callers with the same credentials, run when
// the gate gives it a slot. It returns Accepted, RefusedBadUsernamePassword,
// or RefusedServerUnavailable when no slot was had.
func (a *Auth) verify(ctx context.Context, addr netip.Addr, username string, password []byte) packet.ConnackCode {
	if len(password) > MaxPasswordLen {
		return packet.RefusedBadUsernamePassword
	}
	key := a.cacheKey(username, password)
	if a.cached(key) {
		return packet.Accepted
	}
	high := a.strikes.begin(addr, time.Now())
	defer a.strikes.end(addr)
	code, _, _ := a.flight.Do(string(key[:]), func() (any, error) {
		if a.cached(key) { // a flight that just ended may have added it
			return packet.Accepted, nil
		}
		if !a.gate.acquire(ctx, high) {
			return packet.RefusedServerUnavailable, nil
		}
		defer a.gate.release()
		if !a.check(username, password) {
			return packet.RefusedBadUsernamePassword, nil
		}
		a.remember(key)
		return packet.Accepted, nil
	})
	return code.(packet.ConnackCode)
}

// check runs bcrypt against the user's hash, or against the dummy hash for
// an unknown user so that both take the same time.
func (a *Auth) check(username string, password []byte) bool {
	hash, known := a.users[username]
	if !known {
		if a.dummy == nil { // no users at all: nothing to hide
			return false
		}
		hash = a.dummy
	}
	err := a.compare(hash, password)
	return known && err == nil
}

// cacheKey returns HMAC-SHA256 over the length-prefixed username and the
// password, under a key random per Auth: the cache never holds a plain
// digest of a password that could be attacked offline.
func (a *Auth) cacheKey(username string, password []byte) (key [32]byte) {
	m := hmac.New(sha256.New, a.macKey[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(username)))
	m.Write(n[:])
	m.Write([]byte(username))
	m.Write(password)
	m.Sum(key[:0])
	return key
}

// cached reports whether key passed bcrypt before.
func (a *Auth) cached(key [32]byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.verified[key]
	return ok
}

// remember caches a successful verification, evicting an arbitrary entry
// when the cache is full.
func (a *Auth) remember(key [32]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.verified) >= a.maxCache {
		for k := range a.verified {
			delete(a.verified, k)
			break
		}
	}
	a.verified[key] = struct{}{}
}
