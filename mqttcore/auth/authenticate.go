package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"

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
//     missing password, or a password without a username [MQTT-3.1.2-22];
//   - [packet.RefusedNotAuthorized] (0x05): no username while anonymous
//     clients are not allowed.
//
// The has* arguments are the CONNECT's User Name and Password flags.
// A first successful check costs one bcrypt comparison; see the package
// doc for the cache and for how unknown users are hidden.
func (a *Auth) Authenticate(username string, password []byte, hasUsername, hasPassword bool) packet.ConnackCode {
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
	if a.verify(username, password) {
		return packet.Accepted
	}
	return packet.RefusedBadUsernamePassword
}

//

// verify reports whether password is username's password, from the cache
// or with one bcrypt check shared by concurrent callers.
func (a *Auth) verify(username string, password []byte) bool {
	key := a.cacheKey(username, password)
	if a.cached(key) {
		return true
	}
	ok, _, _ := a.flight.Do(string(key[:]), func() (any, error) {
		if a.cached(key) { // a flight that just ended may have added it
			return true, nil
		}
		ok := a.check(username, password)
		if ok {
			a.remember(key)
		}
		return ok, nil
	})
	return ok.(bool)
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
