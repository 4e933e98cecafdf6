package bridge

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// Reasons in Stats.Dropped besides the queue's own (offline.DroppedExpired,
// offline.DroppedOverflowOldest, offline.DroppedOverflowNew), which are
// merged in.
const (
	// DroppedOffline counts QoS 0 messages bound upstream while the uplink
	// was down.
	DroppedOffline = "offline"
	// DroppedCongested counts QoS 0 messages bound upstream that found the
	// connection's write queue full.
	DroppedCongested = "congested"
	// DroppedInvalidTopic counts local messages whose mapped upstream topic
	// is not a valid topic name (e.g. longer than 65,535 bytes).
	DroppedInvalidTopic = "invalid_topic"
	// DroppedQuarantined counts queue entries that can never be published
	// and were moved to the queue's quarantine.
	DroppedQuarantined = "quarantined"
	// DroppedNoRule counts messages from the upstream that match no in
	// rule (e.g. from a subscription an earlier configuration made).
	DroppedNoRule = "no_rule"
	// DroppedLocalError counts messages from the upstream the local broker
	// refused.
	DroppedLocalError = "local_error"
	// DroppedRejected counts queued messages the upstream refused with an
	// MQTT 5.0 PUBACK or PUBREC reason code of 0x80 or above (not
	// authorized, quota exceeded, ...): deleted, not sent again.
	DroppedRejected = "rejected"
	// DroppedTooLarge counts messages bound upstream larger than the
	// upstream's MQTT 5.0 Maximum Packet Size: deleted, not sent.
	DroppedTooLarge = "too_large"
)

// Stats is a snapshot of the bridge's state and counters since New.
type Stats struct {
	// Connected is true while a connection to the upstream is up.
	Connected bool
	// Address is the address of the current connection, or of the last
	// one when disconnected ("" before the first).
	Address string
	// ConnectedFor is how long the current connection has been up (0 when
	// disconnected), on the monotonic clock.
	ConnectedFor time.Duration
	// Connects counts successful connections; Reconnects is Connects
	// minus the first. ConnectFailures counts rounds over all addresses
	// that failed.
	Connects        uint64
	Reconnects      uint64
	ConnectFailures uint64
	// Forwarded counts messages the upstream acknowledged (QoS 1/2) or
	// that were written to it (QoS 0).
	Forwarded uint64
	// Received counts messages from the upstream published locally.
	Received uint64
	// Dropped counts lost messages by reason: the Dropped* constants and
	// the queue's reasons.
	Dropped map[string]uint64
	// StoreErrors counts QoS 1/2 messages the queue failed to store (the
	// publisher was not acknowledged and will send again).
	StoreErrors uint64
	// SubscribeFailures counts subscriptions the upstream refused.
	SubscribeFailures uint64
	// OrphansReleased counts packet identifiers released (PUBREL) for QoS 2
	// messages the queue dropped after they may have been sent (see
	// offline.Queue.Orphans).
	OrphansReleased uint64
	// ServerDisconnects counts the MQTT 5.0 DISCONNECTs the upstream sent,
	// by reason (reasonName: e.g. "server_shutting_down",
	// "session_taken_over"). Nil when there were none.
	ServerDisconnects map[string]uint64
	// Inflight is the number of messages sent and not yet acknowledged.
	Inflight int
	// LastError is the last error of a connection attempt or of a
	// connection (nil before any).
	LastError error
	// LastDisconnect is why the last connection ended (nil before any),
	// e.g. wrapping ErrKeepAlive for a silent uplink.
	LastDisconnect error
	// Outage describes the current outage and the last one that ended.
	Outage Outage
	// Generation is the generation of the upstream settings (see
	// SetUpstream) the current connection was made with; 0 when
	// disconnected.
	Generation uint64
}

// Stats returns a snapshot of the bridge's state and counters.
func (b *Bridge) Stats() Stats { return b.statsWith(b.queueStats()) }

// statsWith is Stats with the queue's statistics already read (q).
func (b *Bridge) statsWith(q offline.QueueStats) Stats {
	cur := b.cur.Load()
	s := Stats{
		Connected:         cur != nil,
		Connects:          b.stats.connects.Load(),
		ConnectFailures:   b.stats.connectFailures.Load(),
		Forwarded:         b.stats.forwarded.Load(),
		Received:          b.stats.received.Load(),
		StoreErrors:       b.stats.storeErrors.Load(),
		SubscribeFailures: b.stats.subscribeFailures.Load(),
		OrphansReleased:   b.stats.orphansReleased.Load(),
		Inflight:          b.win.len(),
		Dropped:           b.droppedWith(q),
		ServerDisconnects: b.stats.serverDisconnectsCopy(),
		Outage:            b.outageSnapshot(q.Messages),
	}
	if cur != nil {
		s.Generation = cur.up.gen
	}
	if s.Connects > 0 {
		s.Reconnects = s.Connects - 1
	}
	b.mu.Lock()
	s.Address, s.LastError, s.LastDisconnect = b.addr, b.lastErr, b.lastDisconnect
	if s.Connected {
		s.ConnectedFor = b.since() - b.connectedAt
	}
	b.mu.Unlock()
	return s
}

//

type counters struct {
	forwarded, received, connects, connectFailures  atomic.Uint64
	storeErrors, subscribeFailures, orphansReleased atomic.Uint64

	mu          sync.Mutex
	dropped     map[string]uint64
	disconnects map[string]uint64 // by reason code name; nil before the first

	outage outageTracker
}

func (c *counters) init() { c.dropped = make(map[string]uint64) }

func (c *counters) drop(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropped[reason]++
}

func (c *counters) serverDisconnect(code packet.ReasonCode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.disconnects == nil {
		c.disconnects = make(map[string]uint64)
	}
	c.disconnects[reasonName(code)]++
}

// reasonName is the snake_case name of a reason code, a metrics key.
func reasonName(code packet.ReasonCode) string {
	return strings.ReplaceAll(strings.ToLower(code.String()), " ", "_")
}

func (c *counters) serverDisconnectsCopy() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.disconnects)
}

func (c *counters) droppedCopy() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.dropped)
}
