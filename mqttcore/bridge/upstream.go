package bridge

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// errUpstreamChanged is the cause of a connection closed by SetUpstream.
var errUpstreamChanged = errors.New("bridge: upstream settings changed")

// Upstream is the part of Options that says where and as whom the bridge
// connects; SetUpstream replaces it on a running bridge.
type Upstream struct {
	Addresses []string    // see Options.Addresses
	ClientID  string      // see Options.ClientID
	Username  string      // see Options.Username
	Password  string      // see Options.Password
	TLS       *tls.Config // see Options.TLS
}

// SetUpstream replaces the addresses, client id, credentials and TLS
// settings, for a configuration reload: the current connection, if any, is
// closed and the bridge reconnects with the new settings (the queue, the
// rules and the inflight window are kept). It returns the generation of the
// new settings, which Stats.Generation reports once a connection made with
// them is up. Invalid settings are refused and the old ones stay.
func (b *Bridge) SetUpstream(u Upstream) (uint64, error) {
	o := b.o
	o.Addresses, o.ClientID, o.Username, o.Password, o.TLS = u.Addresses, u.ClientID, u.Username, u.Password, u.TLS
	if err := o.validate(); err != nil {
		return 0, err
	}
	next := &upstream{Upstream: u, gen: b.upstream.Load().gen + 1}
	for _, s := range u.Addresses {
		a, err := parseAddress(s)
		if err != nil {
			return 0, fmt.Errorf("bridge: %w", err) // validated above: unreachable
		}
		next.addrs = append(next.addrs, a)
	}
	b.mu.Lock()
	b.upstream.Store(next)
	c := b.cur.Load()
	b.mu.Unlock()
	if c != nil {
		c.cancel(errUpstreamChanged)
	}
	b.log.Info("bridge: upstream settings replaced", "addresses", u.Addresses, "generation", next.gen)
	return next.gen, nil
}

//

// upstream is the Upstream in force with its parsed addresses and its
// generation (1 for Options', then one more per SetUpstream).
type upstream struct {
	Upstream
	addrs []address
	gen   uint64
}

// initUpstream stores Options' upstream as generation 1.
func (b *Bridge) initUpstream() {
	u := &upstream{gen: 1, Upstream: Upstream{
		Addresses: b.o.Addresses, ClientID: b.o.ClientID, Username: b.o.Username, Password: b.o.Password, TLS: b.o.TLS,
	}}
	for _, s := range b.o.Addresses {
		a, _ := parseAddress(s) // validated
		u.addrs = append(u.addrs, a)
	}
	b.upstream.Store(u)
}
