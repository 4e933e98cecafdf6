// Package broker is the gateway's local MQTT broker: MQTT 3.1.1 (and 3.1)
// and MQTT 5.0 on the same listeners. Each connection keeps the protocol
// version of its CONNECT; what MQTT 5.0 adds to a connection (reason
// codes, session expiry, flow control, topic aliases, message properties,
// subscription options) is in v5.go, hung off client.v5, which is nil for
// 3.1.1 clients; outbound topic aliases are in alias.go. Shared
// subscriptions ($share/<name>/<filter>, for both versions) are in
// shared.go.
//
// # Serving
//
// [New] builds a Broker from [Options] and starts nothing. [Broker.Run]
// binds the configured listeners — plain TCP, TLS and WebSocket (subprotocol
// "mqtt", binary frames), any number of each — publishes $SYS and persists
// state until its context ends. [Broker.Serve] serves one net.Listener and
// [Broker.ServeConn] one net.Conn (tests use net.Pipe). In-process code
// (sensors, the bridge) uses [Broker.Publish] and [Broker.Subscribe],
// which need no connection.
//
// # Connections
//
// Each connection has one goroutine, which reads and handles packets. Its
// writes go through a bounded outbound queue, drained by a writer goroutine
// that exists only while packets are queued and writes them in batches (one
// write per batch). The read buffer comes from a pool and, on Linux TCP
// sockets, goes back to it while the connection is idle, so an idle
// connection holds neither a buffer nor a second goroutine.
//
// One slow client never slows the others: QoS 0 messages for a full queue
// are dropped and counted, QoS 1/2 messages wait in the client's session
// (at most MaxInflight unacknowledged, at most MaxQueued waiting), writes
// have a deadline, and a client that stops reading is disconnected. A
// malformed packet or a protocol violation closes that connection only,
// with a Debug log saying why; a panic while handling a connection is
// recovered, logged and closes that connection only.
//
// # Messages
//
// A PUBLISH is matched against the subscription trie (mqttcore/topic) and
// encoded once per QoS for all subscribers; each subscriber's copy differs
// only in the packet identifier, written in as it is sent. QoS 1/2
// delivery state lives in mqttcore/session: packet identifiers, the
// inflight window, the queue, re-sending on reconnect with DUP set, and the
// inbound QoS 2 identifiers that stop duplicates.
//
// A [PublishHook] sees every accepted PUBLISH before the publisher is
// acknowledged; the bridge uses it to write messages ahead to its durable
// queue. Acknowledgements still leave in the order the PUBLISHes arrived.
//
// # Persistence
//
// Retained messages and persistent sessions (subscriptions, queued and
// inflight messages, inbound QoS 2 state) are restored by New from
// Options.Retained and Options.Sessions, and written back by Run:
// subscription changes at once, message state every PersistInterval, and
// everything when Run returns.
//
// # Access control
//
// An [Authenticator] checks CONNECT credentials ([AddrAuthenticator] also
// weighs the client's address, to throttle addresses that keep failing);
// an [Authorizer] decides PUBLISH, SUBSCRIBE and — for every message
// delivered, under the rules in force at that moment — read access
// (access.go). A persistent session belongs to the username that created
// it; another username with the same client id gets a new session
// (Broker.takeSession). Client ids beginning with '$' are reserved for
// in-process origins.
//
// # Limits
//
// MaxConnections refuses extra clients with CONNACK 0x03; connections that
// have not logged in have their own allowance, MaxPending (pending.go), and
// ConnectTimeout closes one that does not send CONNECT in time.
// MaxPacketSize closes a connection that sends a larger packet;
// MaxTopicLevels and MaxTopicLength bound topics; MaxUnstored stops
// reading from a client whose messages the hook has not stored;
// MaxRetained, MaxRetainedBytes and MaxSessions bound the stores, and
// SessionExpiry discards abandoned sessions (expiry.go). Keepalive is
// enforced at 1.5 times the client's value with read deadlines (monotonic
// clock).
package broker
