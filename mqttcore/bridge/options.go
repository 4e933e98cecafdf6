package bridge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/mqttcore/topic"
	"github.com/edgegw/edgegw/offline"
)

// Defaults of Options.
const (
	DefaultKeepAlive       = 30 * time.Second
	DefaultConnectTimeout  = 10 * time.Second
	DefaultMinDelay        = time.Second
	DefaultMaxDelay        = 2 * time.Minute
	DefaultInflight        = 20
	DefaultMaxPacketSize   = 1 << 20
	DefaultOrigin          = "$bridge"
	DefaultMetricsInterval = 30 * time.Second
	DefaultShutdownTimeout = 5 * time.Second
	// DefaultCommitDelay: loopback and LAN upstreams acknowledge well within
	// it (a PUBACK from Mosquitto on loopback takes ~0.3 ms), and a
	// publisher waiting for each PUBACK loses at most this much per message
	// when the upstream is slower (see the README's wear table).
	DefaultCommitDelay           = 30 * time.Millisecond
	DefaultUnattendedCommitDelay = 2 * time.Second
)

// MaxInflight is the largest Options.Inflight: packet identifiers
// 1..MaxInflight are derived from queue sequence numbers (see the package doc).
const MaxInflight = pidSpace

// Queue is the durable FIFO the bridge writes ahead to and drains from.
// *offline.Queue implements it.
type Queue interface {
	// AppendDeferred stores m and calls done once it is durable, or
	// acknowledged (AckAsync) before its commit came due after delay, or
	// refused; a delay ≤ 0 commits at once.
	AppendDeferred(m offline.Message, delay time.Duration, done func(seq uint64, err error))
	// Read returns up to max entries with Seq > after, oldest first,
	// blocking until there is one or ctx ends.
	Read(ctx context.Context, after uint64, max int) ([]offline.Entry, error)
	// LastSeq returns the newest sequence number appended so far.
	LastSeq() uint64
	// Ack durably deletes delivered entries; unknown seqs are ignored.
	AckAsync(seqs []uint64, done func(error))
	// MarkReceivedAsync durably records the PUBREC of a QoS 2 entry and
	// then calls done; marks become durable in the order they were issued.
	MarkReceivedAsync(seq uint64, done func(error))
	// Quarantine moves an entry that can never be sent out of the queue.
	Quarantine(seq uint64, reason string) error
	// Stats reports the depth and the drop counters.
	Stats() offline.QueueStats
	// Orphans returns the QoS 2 entries that left the queue undelivered
	// (overflow, expiry, quarantine) after they may have been sent: the
	// upstream may still hold their packet identifiers. Nothing when none
	// were added since the call that returned since (0: all).
	Orphans(since uint64) (seqs []uint64, gen uint64, err error)
	// ForgetOrphansAsync removes orphans whose identifiers were released.
	ForgetOrphansAsync(seqs []uint64, done func(error))
}

var _ Queue = (*offline.Queue)(nil)

// Local is the local broker's in-process client, which the bridge publishes
// messages from the upstream through. *broker.Broker implements it.
type Local interface {
	// Publish delivers p to local subscribers as coming from origin.
	Publish(ctx context.Context, origin string, p *packet.Publish) error
}

// Options configure a Bridge. Zero values mean the documented defaults.
type Options struct {
	// Addresses are the upstream brokers, tried in order on every
	// (re)connection: the first that accepts wins (failover). Forms:
	// "tcp://host:port" (also "mqtt://"; port default 1883) and
	// "tls://host:port" (also "ssl://", "mqtts://"; port default 8883).
	// Required.
	Addresses []string
	// ClientID is the MQTT client identifier. Required unless
	// CleanSession is set.
	ClientID string
	// Username and Password authenticate to the upstream; empty Username
	// sends neither.
	Username string
	Password string
	// KeepAlive is the MQTT keepalive. The bridge sends PINGREQ when the
	// link is quiet for half of it and drops a connection that stays
	// silent for a whole period, so a dead or blackholed uplink is
	// detected within 1.25 × KeepAlive. It is sent to the upstream in
	// whole seconds (rounded up). Default 30 s; negative disables it
	// (CONNECT says 0, no PINGREQ: a silent uplink then goes unnoticed
	// until TCP gives up).
	KeepAlive time.Duration
	// CleanSession asks the upstream to discard the session. The default,
	// false, keeps the subscriptions and the QoS 2 state across
	// reconnections, which exactly-once delivery needs.
	CleanSession bool
	// Protocol is the MQTT version spoken to the upstream: packet.V311 (the
	// default; zero means it) or packet.V5. With MQTT 5.0 the session is
	// kept by a Session Expiry Interval (SessionExpiry) instead of the
	// clean session flag; the upstream's CONNACK limits are honoured (its
	// Receive Maximum bounds Inflight, a message above its Maximum Packet
	// Size is dropped and counted as DroppedTooLarge, its Server Keep Alive
	// replaces KeepAlive, messages go at most at its Maximum QoS and without
	// RETAIN unless Retain Available; no topic aliases are sent); queued messages carry
	// their remaining TTL as Message Expiry Interval and their local
	// publisher's properties (user properties, content type, payload
	// format, response topic, correlation data) both ways; a PUBACK or
	// PUBREC reason code of 0x80 or above drops the message
	// (DroppedRejected); a DISCONNECT from the upstream is counted in
	// Stats.ServerDisconnects.
	Protocol packet.Version
	// SessionExpiry is the MQTT 5.0 Session Expiry Interval: how long the
	// upstream keeps the session (subscriptions, QoS 1/2 state) after the
	// connection ends, rounded up to seconds. Default (0): never expires
	// (SessionExpiryNever). CleanSession sends 0. Ignored with MQTT 3.1.1.
	SessionExpiry time.Duration
	// TLS configures tls:// addresses: root CAs, client certificate,
	// ServerName (default: the address's host). Nil uses the system roots.
	// Certificate verification is on unless InsecureSkipVerify is set.
	TLS *tls.Config
	// ConnectTimeout bounds dial, TLS handshake and CONNACK for one
	// address. Default 10 s.
	ConnectTimeout time.Duration
	// Reconnect is the backoff between connection attempts.
	Reconnect Reconnect
	// Inflight is the most QoS 1/2 messages sent upstream and not yet
	// acknowledged. Default 20, the default max_inflight_messages of
	// Mosquitto, which PUBRECs and silently drops further incoming QoS 2
	// messages: keep it at or below the upstream's limit. At most MaxInflight.
	Inflight int
	// MaxPacketSize is the largest packet accepted from the upstream, in
	// bytes; a larger one closes the connection. Default 1 MiB.
	MaxPacketSize int
	// Rules select the topics bridged and their direction. A local
	// message is forwarded by the first out/both rule that matches it.
	Rules []Rule
	// Queue is the durable queue for QoS 1/2 messages bound upstream.
	// Required when an out/both rule has QoS > 0.
	Queue Queue
	// Local receives messages from in/both rules. Required when there is
	// such a rule.
	Local Local
	// Origin is the name the bridge publishes locally under; OnPublish
	// ignores messages with this origin, so nothing that came from the
	// upstream is sent back. Default "$bridge".
	Origin string
	// Monitor configures the status and metrics topics on the upstream.
	Monitor Monitor
	// Metrics, when set, is called for every metrics message; its keys
	// are added to the bridge's own (which win on a clash). It must be
	// quick and safe for concurrent use.
	Metrics func() map[string]any
	// Version is reported in the status and metrics messages.
	Version string
	// DrainRate limits the messages per second sent from the queue;
	// 0 means unlimited.
	DrainRate float64
	// LiveFirst sends messages that arrive while a backlog drains ahead of
	// the backlog, so that fresh readings are not held behind an outage's
	// worth of old ones; each of the two streams stays in order, but the
	// upstream then sees new messages before older ones. Default false:
	// one FIFO per upstream.
	LiveFirst bool
	// MessageTTL is given to every queued message: one still queued this
	// long after it was queued is dropped (counted as expired) instead of
	// sent. 0, the default, keeps messages until acknowledged.
	MessageTTL time.Duration
	// CommitDelay is how long a QoS 1 message from a local client may wait
	// in memory for the upstream's acknowledgement before it is written to
	// the queue's disk; its publisher is acknowledged when either happens,
	// so a message the upstream acknowledges in time never touches the
	// flash. The bridge writes ahead instead (no wait) while the uplink is
	// down, while a backlog is queued, and while the upstream's recent
	// acknowledgements took longer than CommitDelay. QoS 2 messages are
	// always written ahead. Default DefaultCommitDelay; negative writes
	// every message ahead.
	CommitDelay time.Duration
	// UnattendedOrigins are local publishers nobody waits on (the
	// gateway's own sensors): their QoS 1 messages are acknowledged as
	// soon as they are queued in memory and written within
	// UnattendedCommitDelay unless the upstream acknowledged them first.
	// A crash loses at most that much of them.
	UnattendedOrigins []string
	// UnattendedCommitDelay: see UnattendedOrigins. Default
	// DefaultUnattendedCommitDelay; negative writes their messages ahead
	// and acknowledges them once written.
	UnattendedCommitDelay time.Duration
	// ShutdownTimeout bounds the clean shutdown: the offline status is
	// published and its PUBACK awaited, then DISCONNECT is sent. Default 5 s.
	ShutdownTimeout time.Duration
	// Logger receives the bridge's log; default: discard.
	Logger *slog.Logger
	// Now is the wall clock for timestamps in status and metrics
	// messages; default time.Now. Timeouts, keepalive and backoff never
	// use it: they use the monotonic clock.
	Now func() time.Time
}

// Reconnect is the capped exponential backoff with jitter between
// connection attempts: after a connection is lost the bridge waits a random
// time between 0 and 2·MinDelay (MinDelay on average), and after n failed
// rounds over all addresses (n = 1, 2, …) a random time between MinDelay and
// min(MaxDelay, MinDelay·2ⁿ).
//
// Every wait is random so that a fleet of gateways that lost its upstream
// at the same instant does not come back in lockstep: with fixed first
// waits, `mqttbench fleet` measured 200 gateways retrying within 100 ms of
// each other one and two seconds after the upstream stopped, and 170 of
// them reconnecting in the first second after a 0.7 s restart (README,
// "A fleet"). The upstream sees about N / (2·MinDelay) connections per
// second after a short outage and N / MaxDelay after a long one: raise
// MinDelay for a large fleet.
type Reconnect struct {
	MinDelay time.Duration // default 1 s
	MaxDelay time.Duration // default 2 min
}

// Monitor configures the monitoring topics on the upstream.
type Monitor struct {
	// TopicPrefix is where status and metrics go: <prefix>/status
	// (retained; the will) and <prefix>/metrics. Empty disables both.
	TopicPrefix string
	// MetricsInterval is the period of <prefix>/metrics. Default 30 s;
	// negative disables metrics.
	MetricsInterval time.Duration
}

// withDefaults returns o with every zero value replaced by its default.
func (o Options) withDefaults() Options {
	o.KeepAlive = orDefault(o.KeepAlive, DefaultKeepAlive)
	o.ConnectTimeout = orDefault(o.ConnectTimeout, DefaultConnectTimeout)
	o.ShutdownTimeout = orDefault(o.ShutdownTimeout, DefaultShutdownTimeout)
	o.Reconnect.MinDelay = orDefault(o.Reconnect.MinDelay, DefaultMinDelay)
	o.Reconnect.MaxDelay = orDefault(o.Reconnect.MaxDelay, DefaultMaxDelay)
	o.Monitor.MetricsInterval = orDefault(o.Monitor.MetricsInterval, DefaultMetricsInterval)
	o.Inflight = orDefault(o.Inflight, DefaultInflight)
	o.Protocol = orDefault(o.Protocol, packet.V311)
	o.MaxPacketSize = orDefault(o.MaxPacketSize, DefaultMaxPacketSize)
	o.Origin = orDefault(o.Origin, DefaultOrigin)
	o.CommitDelay = orDefault(o.CommitDelay, DefaultCommitDelay)
	o.UnattendedCommitDelay = orDefault(o.UnattendedCommitDelay, DefaultUnattendedCommitDelay)
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// validate reports every problem of o (after defaults) at once.
func (o *Options) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(o.Addresses) == 0 {
		bad("no addresses")
	}
	for _, a := range o.Addresses {
		if _, err := parseAddress(a); err != nil {
			errs = append(errs, err)
		}
	}
	if o.ClientID == "" && !o.CleanSession {
		bad("client id required unless clean session")
	}
	if o.KeepAlive > 65535*time.Second {
		bad("keepalive %v out of range (up to 18h12m15s)", o.KeepAlive)
	}
	if o.ConnectTimeout < 0 || o.ShutdownTimeout < 0 {
		bad("negative timeout")
	}
	if o.Reconnect.MinDelay < 0 || o.Reconnect.MaxDelay < o.Reconnect.MinDelay {
		bad("reconnect delays: want 0 <= min_delay (%v) <= max_delay (%v)", o.Reconnect.MinDelay, o.Reconnect.MaxDelay)
	}
	if o.Inflight < 0 || o.Inflight > MaxInflight {
		bad("inflight %d out of range (1 to %d)", o.Inflight, MaxInflight)
	}
	if o.Protocol != packet.V311 && o.Protocol != packet.V5 {
		bad("protocol version %d not supported (want 4, MQTT 3.1.1, or 5)", o.Protocol)
	}
	if o.SessionExpiry < 0 {
		bad("negative session expiry")
	}
	if o.MaxPacketSize < 0 {
		bad("negative max packet size")
	}
	if o.DrainRate < 0 {
		bad("negative drain rate")
	}
	errs = append(errs, o.validateRules()...)
	if p := o.Monitor.TopicPrefix; p != "" {
		if err := topic.ValidateName(p + "/status"); err != nil {
			bad("monitor topic prefix %q: %w", p, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
}

func (o *Options) validateRules() []error {
	var errs []error
	var needQueue, needLocal bool
	for i, r := range o.Rules {
		if err := r.validate(); err != nil {
			errs = append(errs, fmt.Errorf("rule %d: %w", i, err))
		}
		needQueue = needQueue || (r.Direction&Out != 0 && r.QoS > 0)
		needLocal = needLocal || r.Direction&In != 0
	}
	if needQueue && o.Queue == nil {
		errs = append(errs, errors.New("an out rule with qos > 0 needs a queue"))
	}
	if needLocal && o.Local == nil {
		errs = append(errs, errors.New("an in rule needs a local broker"))
	}
	return errs
}

// address is one parsed entry of Options.Addresses.
type address struct {
	raw      string // as configured, for logs and Stats
	hostPort string
	tls      bool
}

// parseAddress accepts "scheme://host[:port]" and bare "host:port" (TCP).
func parseAddress(s string) (address, error) {
	if !strings.Contains(s, "://") {
		s = "tcp://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return address{}, fmt.Errorf("address %q: %w", s, err)
	}
	a := address{raw: s}
	port := "1883"
	switch u.Scheme {
	case "tcp", "mqtt":
	case "tls", "ssl", "mqtts":
		a.tls, port = true, "8883"
	default:
		return address{}, fmt.Errorf("address %q: unknown scheme %q (want tcp:// or tls://)", s, u.Scheme)
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") {
		return address{}, fmt.Errorf("address %q: want scheme://host:port", s)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	a.hostPort = net.JoinHostPort(u.Hostname(), port)
	return a, nil
}
