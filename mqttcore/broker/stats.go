package broker

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of the broker's counters, for $SYS and the monitor.
// Counters count since [New].
type Stats struct {
	// Uptime is the time since New.
	Uptime time.Duration
	// Connections is the number of open network connections, including
	// those that have not sent CONNECT yet.
	Connections int
	// Pending is the number of network connections without an accepted
	// CONNECT that count toward Options.MaxPending (those a quarter of a
	// second old or older), WebSocket HTTP connections included.
	Pending int
	// PendingEvicted counts pending connections closed to make room for
	// newer ones.
	PendingEvicted uint64
	// ClientsConnected is the number of connected MQTT clients.
	ClientsConnected int
	// ClientsMaximum is the largest ClientsConnected seen.
	ClientsMaximum int
	// Sessions is the number of sessions, connected or not (persistent
	// sessions stay while their client is away).
	Sessions int
	// SessionsExpired counts persistent sessions discarded after
	// Options.SessionExpiry; SessionsRefused counts clients refused for
	// Options.MaxSessions.
	SessionsExpired, SessionsRefused uint64
	// Subscriptions counts (filter, subscriber) pairs, inline ones
	// included, and every member of a shared subscription.
	Subscriptions int
	// Retained is the number of retained messages.
	Retained int
	// RetainedRefused counts retained messages not kept because the store
	// was at Options.MaxRetained or MaxRetainedBytes (they were delivered).
	RetainedRefused uint64
	// RetainedExpired counts retained messages discarded because their
	// MQTT 5.0 Message Expiry Interval ran out (3.3.2.3.3).
	RetainedExpired uint64

	// PacketsReceived and PacketsSent count MQTT control packets of every
	// type ($SYS/broker/messages/received and .../sent).
	PacketsReceived, PacketsSent uint64
	// PublishReceived counts PUBLISH packets from clients and inline
	// publishes; PublishSent counts PUBLISH packets written to clients.
	PublishReceived, PublishSent uint64
	// BytesReceived and BytesSent count bytes on client connections.
	BytesReceived, BytesSent uint64
	// ConnectionsRefused counts CONNECTs answered with a refusal code.
	ConnectionsRefused uint64
	// ProtocolErrors counts connections closed for a malformed packet or a
	// protocol violation.
	ProtocolErrors uint64

	// AuthFailures counts CONNECTs refused for their credentials (return
	// codes 0x04 and 0x05; $SYS/broker/clients/auth_failures).
	AuthFailures uint64
	// ReadDenied counts deliveries withheld because the subscriber may not
	// read the message's topic under the current ACL (see [Broker.SetAuth]).
	ReadDenied uint64

	// Dropped counts discarded messages by reason.
	Dropped Drops
}

// Drops counts messages the broker discarded, by reason.
type Drops struct {
	// QueueFull: QoS 1/2 messages for a session whose queue held
	// MaxQueued messages.
	QueueFull uint64
	// SlowClient: QoS 0 messages for a connection whose outbound queue was
	// full.
	SlowClient uint64
	// Offline: QoS 0 messages for a persistent session whose client was not
	// connected (they are not queued).
	Offline uint64
	// Unauthorized: PUBLISHes refused by the Authorizer (still
	// acknowledged, as MQTT 3.1.1 has no way to refuse them).
	Unauthorized uint64
	// SysTopic: PUBLISHes from clients to $SYS topics.
	SysTopic uint64
	// TooLarge: messages not sent to an MQTT 5.0 client because they
	// exceed its Maximum Packet Size.
	TooLarge uint64
	// Expired: messages whose MQTT 5.0 Message Expiry Interval ran out
	// while they were queued.
	Expired uint64
}

// Total returns the sum of all drop counters.
func (d Drops) Total() uint64 {
	return d.QueueFull + d.SlowClient + d.Offline + d.Unauthorized + d.SysTopic + d.TooLarge + d.Expired
}

// Stats returns a snapshot of the broker's counters.
func (b *Broker) Stats() Stats {
	c := &b.stats
	b.mu.Lock()
	nsess := len(b.sessions)
	b.mu.Unlock()
	return Stats{
		Uptime:             time.Since(b.started),
		Connections:        int(c.conns.Load()),
		Pending:            b.pend.len(),
		PendingEvicted:     c.pendingEvicted.Load(),
		ClientsConnected:   int(c.connected.Load()),
		ClientsMaximum:     int(c.maxConnected.Load()),
		Sessions:           nsess,
		Subscriptions:      b.subs.Len() + int(b.shares.extra.Load()),
		Retained:           b.retained.Len(),
		SessionsExpired:    c.sessionsExpired.Load(),
		SessionsRefused:    c.sessionsRefused.Load(),
		RetainedRefused:    c.retainedRefused.Load(),
		RetainedExpired:    c.retainedExpired.Load(),
		PacketsReceived:    c.pktIn.Load(),
		PacketsSent:        c.pktOut.Load(),
		PublishReceived:    c.pubIn.Load(),
		PublishSent:        c.pubOut.Load(),
		BytesReceived:      c.bytesIn.Load(),
		BytesSent:          c.bytesOut.Load(),
		ConnectionsRefused: c.refused.Load(),
		ProtocolErrors:     c.protoErr.Load(),
		AuthFailures:       c.authFailed.Load(),
		ReadDenied:         c.readDenied.Load(),
		Dropped: Drops{
			QueueFull:    c.dropQueueFull.Load(),
			SlowClient:   c.dropSlow.Load(),
			Offline:      c.dropOffline.Load(),
			Unauthorized: c.dropDenied.Load(),
			SysTopic:     c.dropSys.Load(),
			TooLarge:     c.dropTooLarge.Load(),
			Expired:      c.dropExpired.Load(),
		},
	}
}

//

// counters are the broker's statistics. Connection readers and writers add
// to them once per batch of packets, not per packet.
type counters struct {
	conns, connected, maxConnected atomic.Int64

	pktIn, pktOut, pubIn, pubOut, bytesIn, bytesOut  atomic.Uint64
	refused, protoErr, authFailed, readDenied        atomic.Uint64
	pendingEvicted, retainedRefused, retainedExpired atomic.Uint64
	sessionsExpired, sessionsRefused                 atomic.Uint64

	dropQueueFull, dropSlow, dropOffline, dropDenied, dropSys atomic.Uint64
	sharedHandedOn                                            atomic.Uint64 // shared messages given to another member (handOn)
	dropTooLarge, dropExpired                                 atomic.Uint64
}

// clientConnected counts a new connected client and tracks the maximum.
func (c *counters) clientConnected() {
	n := c.connected.Add(1)
	for {
		m := c.maxConnected.Load()
		if n <= m || c.maxConnected.CompareAndSwap(m, n) {
			return
		}
	}
}
