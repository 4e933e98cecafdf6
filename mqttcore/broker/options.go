package broker

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/netip"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Options configure a Broker. The zero value is a working broker without
// listeners (use [Broker.Serve] or [Broker.ServeConn]) that refuses
// anonymous clients; every zero field means the default documented on it.
type Options struct {
	// Listeners are bound by [Broker.Run], all at once. None: Run binds
	// nothing and only publishes $SYS and persists state.
	Listeners []Listener

	// AllowAnonymous lets clients connect without a user name. When false
	// (the default) a CONNECT without one is refused with CONNACK 0x05,
	// whatever the Authenticator says; when true the Authenticator (if
	// any) decides for them too.
	AllowAnonymous bool
	// Authenticator checks CONNECT credentials. nil accepts every user name
	// and password. Replace it at run time with [Broker.SetAuth].
	Authenticator Authenticator
	// Authorizer decides who may publish to a topic and subscribe to a
	// filter. nil allows everything. Replace it with [Broker.SetAuth].
	Authorizer Authorizer

	// MaxConnections is the number of simultaneous connected clients; a
	// client over the limit gets CONNACK 0x03 (server unavailable) and is
	// disconnected. Connections that have not sent CONNECT yet count toward
	// MaxPending instead. 0 (the default) means no limit.
	MaxConnections int
	// MaxPending is how many network connections may be open without an
	// accepted CONNECT (in their TLS or WebSocket handshake, idle HTTP
	// connections of a WebSocket listener, or before CONNECT), a quarter of
	// them from one address. A new one over either allowance closes the
	// oldest (of its address first), so sockets that never log in cannot
	// lock clients out. A connection counts only after a quarter of a
	// second without CONNECT (HTTP ones at once), so a burst of clients
	// that log in at once is not cut down (see pending.go). 0 means 128.
	MaxPending int
	// MaxPacketSize is the largest control packet a client may send, in
	// bytes including the fixed header; a client sending a larger one is
	// disconnected. 0 means 1 MiB; the protocol's own limit is
	// 268,435,460 bytes.
	MaxPacketSize int
	// MaxInflight is how many QoS 1/2 messages may be sent to one client
	// and not yet acknowledged; more wait in the session queue. 0 means 32.
	MaxInflight int
	// MaxQueued bounds each session's queue of QoS 1/2 messages waiting
	// behind the inflight window or for an offline persistent session to
	// come back; messages beyond it are dropped and counted
	// (Stats.Dropped.QueueFull). 0 means 1000.
	MaxQueued int
	// MaxQueuedBytes bounds the topic and payload bytes of each session's
	// queue the same way (one message always fits). 0 means
	// DefaultMaxQueuedBytes (16 MiB); negative means no byte bound.
	MaxQueuedBytes int
	// MaxTopicLevels is the most levels a topic name or filter may have
	// (separators + 1), for PUBLISH, SUBSCRIBE, wills, retained messages and
	// inline clients: a PUBLISH or will over it closes the connection, a
	// filter over it gets SUBACK 0x80. Each level of a subscription or a
	// retained message costs a node in memory, so this keeps a 64 KiB
	// SUBSCRIBE from costing megabytes. 0 means 200, as in Mosquitto.
	MaxTopicLevels int
	// MaxTopicLength is the longest topic name or filter in bytes, enforced
	// like MaxTopicLevels. It also keeps retained topics within what the
	// stores can hold as keys. 0 means 8192; the protocol allows 65,535.
	MaxTopicLength int
	// MaxUnstored bounds, per client, the payload bytes of QoS 1/2
	// messages handed to the Hook and not yet stored (done not called):
	// beyond it the broker stops reading from that client until the hook
	// catches up, so a client that publishes without waiting for its
	// PUBACKs is slowed down to the store's pace by TCP instead of filling
	// memory. 0 means 4 MiB; one message is always accepted, so a client
	// may have up to MaxUnstored + MaxPacketSize in the hook.
	MaxUnstored int
	// MaxRetained bounds the number of retained messages and
	// MaxRetainedBytes their topic and payload bytes. A retained message
	// that does not fit is delivered but not retained, and counted
	// (Stats.RetainedRefused); replacing or clearing one always works
	// within the bytes. They also bound what a bridge rule's upstream can
	// make the gateway retain. 0 means 100,000 messages and 64 MiB.
	MaxRetained      int
	MaxRetainedBytes int
	// MaxSessions bounds the persistent sessions (CleanSession 0), online
	// or not; a client that would create one more is refused with CONNACK
	// 0x03 (resuming its own session always works). 0 means 1000.
	MaxSessions int
	// SessionExpiry discards a persistent session whose client has been
	// away this long, with its subscriptions and queued messages (see
	// expiry.go). 0 (the default) keeps sessions until a clean session
	// replaces them, as MQTT 3.1.1 and Mosquitto do by default.
	SessionExpiry time.Duration
	// MaxOutbound bounds each connection's queue of packets waiting for its
	// socket. QoS 0 messages for a full queue are dropped and counted
	// (Stats.Dropped.SlowClient); QoS 1/2 messages are not affected (they
	// wait in the session); a client whose queue grows to 4× this bound
	// anyway (acknowledgements for a client that does not read) is
	// disconnected. 0 means 1000 packets.
	MaxOutbound int
	// ReceiveMaximum is the Receive Maximum announced to MQTT 5.0
	// clients: how many QoS 1/2 PUBLISHes one may send without waiting for
	// their acknowledgements; one more ends its connection with
	// DISCONNECT 0x93. 3.1.1 clients are not bound by it. 0 means 256;
	// above 65,535 means 65,535.
	ReceiveMaximum int
	// TopicAliasMaximum is the Topic Alias Maximum announced to MQTT 5.0
	// clients: how many topic aliases each may set on its connection. 0
	// means 16; negative accepts none.
	TopicAliasMaximum int
	// TopicAliasOut is how many Topic Aliases the broker sets on the
	// PUBLISHes it sends to one MQTT 5.0 connection, at most the Topic
	// Alias Maximum of the client's CONNECT (see aliasOut). 0 means 16;
	// negative sets none.
	TopicAliasOut int

	// ConnectTimeout is how long a new connection may take to send its
	// CONNECT (including the TLS or WebSocket handshake) before it is
	// closed; it is also the idle timeout of HTTP connections on a
	// WebSocket listener. 0 means 5 seconds.
	ConnectTimeout time.Duration
	// WriteTimeout is how long one write to a client may block before the
	// client is considered stuck and disconnected. 0 means 10 seconds.
	WriteTimeout time.Duration
	// SysInterval is the period of the $SYS topics. 0 means 10 seconds;
	// negative disables $SYS.
	SysInterval time.Duration
	// PersistInterval is how often [Broker.Run] writes changed persistent
	// sessions (queued and inflight messages) and retained messages to the
	// stores; subscription changes are written at once. Everything is also
	// written when Run returns. 0 means 10 seconds.
	PersistInterval time.Duration

	// Hook is told about every accepted PUBLISH before it is acknowledged
	// (write-ahead for the bridge). nil acknowledges at once.
	Hook PublishHook
	// Retained persists retained messages; nil keeps them in memory only.
	Retained Store
	// Sessions persists persistent sessions (CleanSession=0): their
	// subscriptions, queued and inflight messages. nil keeps them in memory.
	Sessions Store
	// Messages, with Sessions, stores the QoS 1/2 messages queued for
	// persistent sessions before their publishers are acknowledged: once
	// each, however many sessions hold them (see CommitDelay). nil keeps
	// them in the session records, written every PersistInterval.
	Messages Store
	// CommitDelay is how long a message for a connected persistent
	// session waits for the client's acknowledgement before it is written
	// to Messages; the publisher's acknowledgement waits as long at most.
	// Messages for a session whose client is away are written at once.
	// 0 means DefaultCommitDelay; negative writes every message at once.
	CommitDelay time.Duration

	// Logger receives the broker's logs; nil discards them. Connection
	// problems (malformed packets, timeouts) are logged at Debug.
	Logger *slog.Logger
	// Version is published as $SYS/broker/version. "" means "edgegw".
	Version string
	// SysExtra, if set, is called every SysInterval; each entry k → v is
	// published retained as $SYS/gateway/k.
	SysExtra func() map[string]string
}

// Listener is one network endpoint of the broker.
type Listener struct {
	// Address is "host:port" to listen on; port 0 picks a free port (see
	// [Broker.Addrs]).
	Address string
	// TLS, if not nil, makes this a TLS listener. Client certificates are
	// verified as TLS.ClientAuth and TLS.ClientCAs say.
	TLS *tls.Config
	// WebSocketPath, if not empty, serves MQTT over WebSocket (subprotocol
	// "mqtt", binary frames) at this HTTP path instead of raw MQTT.
	WebSocketPath string
}

// Authenticator checks the credentials of a CONNECT. *auth.Auth implements
// it.
type Authenticator interface {
	// Authenticate returns packet.Accepted or the CONNACK refusal code.
	Authenticate(username string, password []byte, hasUsername, hasPassword bool) packet.ConnackCode
}

// AddrAuthenticator is an Authenticator that also weighs where a CONNECT
// comes from, to throttle addresses that keep failing; *auth.Auth
// implements it. The broker uses it instead of Authenticate when the
// Authenticator has it.
type AddrAuthenticator interface {
	// AuthenticateFrom is Authenticate for a client at addr (the zero
	// Addr when unknown); it may wait, until ctx ends.
	AuthenticateFrom(ctx context.Context, addr netip.Addr, username string, password []byte, hasUsername, hasPassword bool) packet.ConnackCode
}

// Authorizer decides what a connected client may do. *auth.Auth implements
// it.
type Authorizer interface {
	// CanPublish reports whether the client may publish to topic.
	CanPublish(clientID, username, topic string) bool
	// CanSubscribe reports whether the client may subscribe to filter:
	// whether some topic the filter matches could be readable.
	CanSubscribe(clientID, username, filter string) bool
	// CanRead reports whether the client may receive a message published
	// to topic; the broker asks before every delivery (answers are cached
	// per session until [Broker.SetAuth]).
	CanRead(clientID, username, topic string) bool
}

// FilterReader is an Authorizer that can tell that a filter delivers only
// readable topics; *auth.Auth implements it. The broker then skips the
// per-delivery check for sessions whose every subscription is such a
// filter.
type FilterReader interface {
	// CanReadAll reports whether the client may read every topic filter
	// matches; false when unsure.
	CanReadAll(clientID, username, filter string) bool
}

// PublishHook sees every accepted PUBLISH before the publisher is
// acknowledged; the bridge uses it to make messages durable first.
type PublishHook interface {
	// OnPublish is called once for every PUBLISH the broker accepts (from
	// TCP clients: origin = client id; from the inline client: origin = the
	// name given to Publish). The broker sends PUBACK/PUBREC to the
	// publisher only after done(nil); done is called exactly once, from any
	// goroutine, in the order the hook received the messages for one
	// origin. done(err) means "not stored": no ack (the client will
	// resend). p must not be modified.
	OnPublish(origin string, p *packet.Publish, done func(error))
}

// Store persists key/value pairs; *offline.KV implements it.
type Store interface {
	// Put stores value under key; it is durable when Put returns.
	Put(key string, value []byte) error
	// Delete removes key.
	Delete(key string) error
	// ForEach calls fn for every pair; an error from fn stops it.
	ForEach(fn func(key string, value []byte) error) error
}

// Defaults for zero Options fields.
const (
	DefaultMaxPacketSize    = 1 << 20               // Options.MaxPacketSize: 1 MiB
	DefaultMaxInflight      = 32                    // Options.MaxInflight
	DefaultMaxQueued        = 1000                  // Options.MaxQueued
	DefaultMaxQueuedBytes   = 16 << 20              // Options.MaxQueuedBytes
	DefaultMaxOutbound      = 1000                  // Options.MaxOutbound, in packets
	DefaultMaxUnstored      = 4 << 20               // Options.MaxUnstored: 4 MiB
	DefaultMaxRetained      = 100_000               // Options.MaxRetained
	DefaultMaxRetainedBytes = 64 << 20              // Options.MaxRetainedBytes: 64 MiB
	DefaultMaxSessions      = 1000                  // Options.MaxSessions
	DefaultMaxTopicLevels   = 200                   // Options.MaxTopicLevels
	DefaultMaxTopicLength   = 8192                  // Options.MaxTopicLength, in bytes
	DefaultConnectTimeout   = 5 * time.Second       // Options.ConnectTimeout
	DefaultMaxPending       = 128                   // Options.MaxPending
	DefaultWriteTimeout     = 10 * time.Second      // Options.WriteTimeout
	DefaultSysInterval      = 10 * time.Second      // Options.SysInterval
	DefaultPersistInterval  = 10 * time.Second      // Options.PersistInterval
	DefaultCommitDelay      = 30 * time.Millisecond // Options.CommitDelay
	DefaultReceiveMaximum   = 256                   // Options.ReceiveMaximum
	DefaultTopicAliasMax    = 16                    // Options.TopicAliasMaximum
	DefaultTopicAliasOut    = 16                    // Options.TopicAliasOut
)

// maxPacketTotal is the largest packet the protocol can express: one type
// byte, four length bytes and the largest Remaining Length.
const maxPacketTotal = 1 + 4 + packet.MaxRemainingLength

//

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	o.MaxPacketSize = min(orDefault(o.MaxPacketSize, DefaultMaxPacketSize), maxPacketTotal)
	o.MaxInflight = orDefault(o.MaxInflight, DefaultMaxInflight)
	o.MaxQueued = orDefault(o.MaxQueued, DefaultMaxQueued)
	if o.MaxQueuedBytes == 0 {
		o.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	o.MaxOutbound = orDefault(o.MaxOutbound, DefaultMaxOutbound)
	o.ReceiveMaximum = min(orDefault(o.ReceiveMaximum, DefaultReceiveMaximum), 65535)
	switch {
	case o.TopicAliasMaximum == 0:
		o.TopicAliasMaximum = DefaultTopicAliasMax
	case o.TopicAliasMaximum < 0:
		o.TopicAliasMaximum = 0
	}
	o.TopicAliasMaximum = min(o.TopicAliasMaximum, 65535)
	switch {
	case o.TopicAliasOut == 0:
		o.TopicAliasOut = DefaultTopicAliasOut
	case o.TopicAliasOut < 0:
		o.TopicAliasOut = 0
	}
	o.TopicAliasOut = min(o.TopicAliasOut, 65535)
	o.MaxSessions = orDefault(o.MaxSessions, DefaultMaxSessions)
	o.MaxRetained = orDefault(o.MaxRetained, DefaultMaxRetained)
	o.MaxRetainedBytes = orDefault(o.MaxRetainedBytes, DefaultMaxRetainedBytes)
	o.MaxUnstored = orDefault(o.MaxUnstored, DefaultMaxUnstored)
	o.MaxTopicLevels = orDefault(o.MaxTopicLevels, DefaultMaxTopicLevels)
	o.MaxTopicLength = orDefault(o.MaxTopicLength, DefaultMaxTopicLength)
	o.ConnectTimeout = orDefault(o.ConnectTimeout, DefaultConnectTimeout)
	o.MaxPending = orDefault(o.MaxPending, DefaultMaxPending)
	o.WriteTimeout = orDefault(o.WriteTimeout, DefaultWriteTimeout)
	o.PersistInterval = orDefault(o.PersistInterval, DefaultPersistInterval)
	if o.CommitDelay == 0 {
		o.CommitDelay = DefaultCommitDelay
	}
	if o.SysInterval == 0 { // negative: disabled
		o.SysInterval = DefaultSysInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Version == "" {
		o.Version = "edgegw"
	}
	return o
}

// orDefault returns v, or def when v is zero or negative.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
