package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/session"
	"github.com/edgegw/edgegw/mqttcore/topic"
)

// Errors returned by the broker's API.
var (
	// ErrInvalidPublish is returned by [Broker.Publish] for a message the
	// protocol does not allow: an invalid topic name or a QoS above 2.
	ErrInvalidPublish = errors.New("broker: invalid publish")
	// ErrInvalidSubscribe is returned by [Broker.Subscribe] for an invalid
	// filter, a QoS above 2 or a nil callback.
	ErrInvalidSubscribe = errors.New("broker: invalid subscribe")
	// ErrTopicLimit is returned by [Broker.Publish] and [Broker.Subscribe],
	// and ends a client's connection, for a topic over
	// Options.MaxTopicLevels or Options.MaxTopicLength.
	ErrTopicLimit = errors.New("broker: topic over limits")
	// ErrRunning is returned by a second call of [Broker.Run].
	ErrRunning = errors.New("broker: already running")
)

// Broker is a local MQTT 3.1.1 broker. Create it with [New]; it serves
// connections handed to [Broker.ServeConn], accepted by [Broker.Serve] or
// by the listeners [Broker.Run] binds, and in-process clients through
// [Broker.Publish] and [Broker.Subscribe]. All methods are safe for
// concurrent use.
//
// Lock order: Broker.mu → sess.mu → client.acks.mu → client.outMu. The
// subscription trie and the retained store take their own locks before
// any of these (their visitors take sess.mu), so none of these may be
// held while calling into them.
type Broker struct {
	opts     Options
	limits   topic.Limits // from opts
	log      *slog.Logger
	auth     atomic.Pointer[authConfig]
	subs     *topic.Trie[subscriber]
	shares   shares // shared subscriptions, subscribed to subs as groups
	retained *topic.Store[*retainedMsg]
	retMu    sync.Mutex // serializes changes to retained, for retBytes
	retBytes int        // topic and payload bytes in retained
	stats    counters
	pend     *pending     // connections without an accepted CONNECT
	places   atomic.Int64 // connected clients and CONNECTs being admitted, under MaxConnections
	memRel   memReleaser
	started  time.Time
	persist  persister
	held     *heldStore // nil without Options.Messages

	mu       sync.Mutex
	sessions map[string]*sess // by client id, persistent ones also while offline
	// willsOfEnded are ended sessions with a delayed will to publish (see
	// publishDueWills).
	willsOfEnded []*sess
	npersist     int // persistent sessions in sessions

	lmu     sync.Mutex
	running bool
	runCtx  context.Context // Run's context while it runs; nil otherwise
	failed  chan error      // a listener that failed for good ends Run
	live    []*liveListener // bound listeners, in the order of Options.Listeners
}

// authConfig is what [Broker.SetAuth] swaps atomically.
type authConfig struct {
	allowAnonymous bool
	authn          Authenticator
	authnFrom      AddrAuthenticator // authn, if it implements it
	authz          Authorizer
	readAll        FilterReader // authz, if it implements it
}

// New returns a broker configured by opts. It starts nothing; it restores
// retained messages and persistent sessions from opts.Retained and
// opts.Sessions (records that cannot be decoded are logged and skipped).
func New(opts Options) (*Broker, error) {
	opts = opts.withDefaults()
	if err := checkListeners(opts.Listeners); err != nil {
		return nil, err
	}
	b := &Broker{
		opts:     opts,
		limits:   topic.Limits{MaxLevels: opts.MaxTopicLevels, MaxLength: opts.MaxTopicLength},
		log:      opts.Logger,
		subs:     topic.NewTrie[subscriber](),
		retained: topic.NewStore[*retainedMsg](),
		started:  time.Now(),
		sessions: make(map[string]*sess),
	}
	b.pend = newPending(opts.MaxPending, &b.stats.pendingEvicted)
	b.persist.init()
	if opts.Messages != nil {
		b.held = newHeldStore(b)
	}
	b.SetAuth(opts.AllowAnonymous, opts.Authenticator, opts.Authorizer)
	if err := b.restore(); err != nil {
		return nil, err
	}
	return b, nil
}

// SetAuth replaces the authentication and authorization settings, for
// example after a configuration reload. New connections, every later
// PUBLISH and SUBSCRIBE, and every later delivery use them: subscriptions
// made earlier are kept, but deliver only what the new rules let their
// client read (cached read decisions are dropped).
// A nil Authenticator accepts every user; a nil Authorizer allows
// everything.
func (b *Broker) SetAuth(allowAnonymous bool, authn Authenticator, authz Authorizer) {
	from, _ := authn.(AddrAuthenticator)
	readAll, _ := authz.(FilterReader)
	b.auth.Store(&authConfig{allowAnonymous: allowAnonymous, authn: authn, authnFrom: from, authz: authz, readAll: readAll})
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.sessions {
		s.refreshReadAll()
	}
}

// Addrs returns the addresses of the listeners bound by [Broker.Run], in
// the order of Options.Listeners; nil before Run has bound them.
func (b *Broker) Addrs() []net.Addr {
	b.lmu.Lock()
	defer b.lmu.Unlock()
	var addrs []net.Addr
	for _, l := range b.live {
		addrs = append(addrs, l.addr)
	}
	return addrs
}

//

// sessionOptions are the bounds of every session of this broker.
func (b *Broker) sessionOptions() session.Options {
	return session.Options{MaxInflight: b.opts.MaxInflight, MaxQueued: b.opts.MaxQueued, MaxQueuedBytes: b.opts.MaxQueuedBytes}
}

// checkTopic applies Options.MaxTopicLevels and MaxTopicLength to a topic
// name or filter; the error wraps ErrTopicLimit.
func (b *Broker) checkTopic(s string) error {
	if err := b.limits.Check(s); err != nil {
		return fmt.Errorf("%w: %w", ErrTopicLimit, err)
	}
	return nil
}

// canPublish applies the Authorizer to a client's PUBLISH.
func (b *Broker) canPublish(clientID, username, name string) bool {
	a := b.auth.Load()
	return a.authz == nil || a.authz.CanPublish(clientID, username, name)
}

// canSubscribe applies the Authorizer to a client's SUBSCRIBE.
func (b *Broker) canSubscribe(clientID, username, filter string) bool {
	a := b.auth.Load()
	return a.authz == nil || a.authz.CanSubscribe(clientID, username, filter)
}

// authenticate returns the CONNACK code for a CONNECT's credentials, from
// the client at addr (zero if unknown).
func (b *Broker) authenticate(ctx context.Context, addr netip.Addr, p *packet.Connect) packet.ConnackCode {
	a := b.auth.Load()
	if !p.UsernameFlag && !a.allowAnonymous {
		return packet.RefusedNotAuthorized
	}
	if a.authn == nil {
		return packet.Accepted
	}
	if a.authnFrom != nil {
		return a.authnFrom.AuthenticateFrom(ctx, addr, p.Username, p.Password, p.UsernameFlag, p.PasswordFlag)
	}
	return a.authn.Authenticate(p.Username, p.Password, p.UsernameFlag, p.PasswordFlag)
}

// remoteIP returns the IP address of a connection's peer, or the zero
// Addr when it has none (net.Pipe).
func remoteIP(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(t.IP)
		return ip.Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
