package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/singleflight"

	"github.com/edgegw/edgegw/mqttcore/topic"
)

// User is one account that may connect with a username and password.
type User struct {
	// Username is what the client sends in CONNECT; required, unique.
	Username string
	// PasswordHash is a bcrypt hash ("$2a$10$…", "$2b$…" or "$2y$…"), for
	// example the output of `htpasswd -nbBC 10 "" PASSWORD | tr -d ':\n'`.
	// (mosquitto_passwd files hold PBKDF2 hashes, which are not accepted.)
	// Passwords longer than 72 bytes ([MaxPasswordLen]) are refused: bcrypt
	// would check only their first 72 bytes.
	PasswordHash string
}

// Rule is one ACL entry; see the package doc for how rules combine.
type Rule struct {
	// Username limits the rule to the client authenticated as this user;
	// empty applies it to every client, anonymous ones included.
	Username string
	// Topic is a topic filter, in which %c stands for the client
	// identifier and %u for the username.
	Topic string
	// Access is what the rule grants or refuses.
	Access Access
}

// Auth authenticates clients and checks their ACL. It is safe for
// concurrent use; its users and rules are fixed when it is created.
type Auth struct {
	allowAnonymous bool
	users          map[string][]byte // username → bcrypt hash
	dummy          []byte            // hash checked for unknown users
	rules          []rule

	compare func(hash, password []byte) error // bcrypt.CompareHashAndPassword; tests count calls
	macKey  [32]byte                          // keys the cache, random per Auth
	flight  singleflight.Group                // one bcrypt check per credentials at a time
	gate    *gate                             // bounds concurrent bcrypt checks
	strikes strikes                           // recent failures by address

	mu       sync.Mutex
	verified map[[32]byte]struct{} // credentials that passed bcrypt
	maxCache int
}

// defaultMaxCache bounds the cache of successful verifications: enough for
// every client of a gateway (max_connections defaults to 256).
const defaultMaxCache = 1024

// New returns an Auth for the given users and ACL rules. allowAnonymous
// says whether a client may connect without a username. New checks every
// password hash and every rule (topic and access) and returns all problems
// at once, joined. When there are users, it computes one bcrypt hash
// itself, the dummy checked for unknown usernames, at the cost most users
// have (about 50 ms on a Raspberry Pi at cost 10).
func New(allowAnonymous bool, users []User, rules []Rule) (*Auth, error) {
	a := &Auth{
		allowAnonymous: allowAnonymous,
		users:          make(map[string][]byte, len(users)),
		compare:        bcrypt.CompareHashAndPassword,
		verified:       make(map[[32]byte]struct{}),
		maxCache:       defaultMaxCache,
		gate:           newGate(),
	}
	costs, errs := a.addUsers(users)
	errs = append(errs, a.addRules(rules)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(a.users) > 0 { // with no users there are no usernames to hide
		dummy, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), usualCost(costs))
		if err != nil {
			return nil, fmt.Errorf("auth: dummy hash: %w", err)
		}
		a.dummy = dummy
	}
	rand.Read(a.macKey[:])
	return a, nil
}

//

// addUsers validates and records users. It returns how many users have
// each bcrypt cost, and the problems found.
func (a *Auth) addUsers(users []User) (costs map[int]int, errs []error) {
	costs = make(map[int]int)
	for i, u := range users {
		where := fmt.Sprintf("auth: users[%d] (%q)", i, u.Username)
		if u.Username == "" {
			errs = append(errs, fmt.Errorf("auth: users[%d]: %w", i, ErrNoUsername))
			continue
		}
		if _, dup := a.users[u.Username]; dup {
			errs = append(errs, fmt.Errorf("%s: %w", where, ErrDuplicateUser))
			continue
		}
		hash := []byte(u.PasswordHash)
		cost, err := bcrypt.Cost(hash)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w: %w", where, ErrInvalidHash, err))
			continue
		}
		a.users[u.Username] = hash
		costs[cost]++
	}
	return costs, errs
}

// addRules validates and records rules, returning the problems found.
func (a *Auth) addRules(rules []Rule) (errs []error) {
	for i, r := range rules {
		where := fmt.Sprintf("auth: rules[%d] (topic %q)", i, r.Topic)
		if err := topic.ValidateFilter(r.Topic); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		if !r.Access.valid() {
			errs = append(errs, fmt.Errorf("%s: %w %v", where, ErrInvalidAccess, r.Access))
		}
		a.rules = append(a.rules, rule{
			username:  r.Username,
			topic:     r.Topic,
			access:    r.Access,
			templated: strings.Contains(r.Topic, "%c") || strings.Contains(r.Topic, "%u"),
		})
	}
	return errs
}

// usualCost returns the most common cost in costs, the higher one on a tie.
func usualCost(costs map[int]int) int {
	best, n := 0, 0
	for c, k := range costs {
		if k > n || (k == n && c > best) {
			best, n = c, k
		}
	}
	return best
}
