// Package bridge is the gateway's MQTT 3.1.1 or 5.0 client to the upstream
// broker (Options.Protocol), built on the mqttcore/packet codec. It forwards local messages upstream
// through the durable offline queue, delivers upstream messages to the local
// broker, and publishes the gateway's status and metrics.
//
// # Lifecycle
//
// New checks the Options and starts nothing. Run connects and keeps
// reconnecting until its context ends: addresses are tried in order
// (failover), and after a failed round over all of them the bridge waits a
// capped, exponentially growing, fully jittered delay. It boots fine with no
// network or DNS. AwaitConnection waits for the uplink; Stats reports it.
//
// # MQTT 5.0
//
// With Options.Protocol packet.V5 the CONNECT carries a Session Expiry
// Interval instead of relying on the clean session flag, and each
// connection takes its limits from the CONNACK (limits, v5.go): the
// upstream's Receive Maximum bounds the window (window.setLimit), a message
// above its Maximum Packet Size is dropped (DroppedTooLarge), its Server
// Keep Alive replaces Options.KeepAlive. A local publisher's forwardable
// properties are stored with the queue entry (offline.Message.Props, in the
// codec's own encoding: encodeProps) and sent with it, with the TTL left as
// Message Expiry Interval (offline.Entry.Age); upstream messages keep
// theirs locally. Acknowledgements with a failure reason code drop the
// message (DroppedRejected); a DISCONNECT from the upstream is counted
// (Stats.ServerDisconnects).
//
// # Out: local → upstream, the durability promise
//
// The local broker calls OnPublish for every message it accepts. A message
// matching an out rule at QoS 1 or 2 is appended to the queue and sent
// upstream at once; the broker acknowledges its publisher when the upstream
// acknowledged it or when it is on disk, whichever comes first. A QoS 1
// message waits in memory up to Options.CommitDelay for the upstream's
// PUBACK and is written only if that does not come in time, so a healthy
// uplink costs the flash nothing (offline.Queue.AppendDeferred). It is
// written ahead instead when waiting cannot help: while the uplink is down,
// and while the upstream's recent acknowledgement time, times the windows'
// worth of messages queued ahead, exceeds the delay (commit.go). QoS 2
// messages are always written ahead, so that the PUBREC state and their
// packet identifiers survive a restart. Messages of Options.UnattendedOrigins
// (the gateway's sensors: nobody waits for them) are acknowledged as soon
// as queued and written within Options.UnattendedCommitDelay unless the
// upstream acknowledged them first.
//
// The queue is drained oldest first through an inflight window
// (Options.Inflight messages): each entry is deleted (or its commit
// cancelled) only after the upstream's PUBACK (QoS 1) or PUBCOMP (QoS 2,
// after its PUBREC). Acknowledged entries are deleted in batches, and writes
// to the socket are batched too, so a backlog drains at the upstream's
// speed. After a reconnection the unacknowledged messages are sent again
// first, in order, with DUP set. QoS 0 messages bypass the queue: sent when
// the uplink is up, dropped and counted when not.
//
// # Exactly once for QoS 2, across restarts
//
// With CleanSession false the upstream keeps its half of a QoS 2 exchange,
// keyed by packet identifier, across connections. So the bridge derives a
// queued message's identifier from its queue sequence number — seq mod 65000,
// plus one — and it is the same after a restart, without storing a mapping.
// The window never holds two messages 65000 or more sequence numbers apart,
// so identifiers within it are unique; 65001..65535 are left for SUBSCRIBE
// and the status messages. On PUBREC the bridge persists the entry's Received
// mark (Queue.MarkReceived) before it sends PUBREL; a restarted bridge finds
// the mark and sends PUBREL with the same identifier, not a second PUBLISH.
// If the upstream reports no session on reconnection (it lost the state), a
// received message is published again instead: PUBREL alone could lose it.
//
// # In: upstream → local
//
// The bridge subscribes upstream to the remote filter of each in rule, maps
// each message to its local topic and publishes it through Options.Local
// with origin Options.Origin ("$bridge"). It acknowledges the upstream
// (PUBACK, or PUBREC then PUBCOMP) only after the local publish returned.
// OnPublish ignores that origin, so nothing goes back out.
//
// # Monitoring (contract)
//
// With Monitor.TopicPrefix set, the CONNECT carries a will on
// <prefix>/status, retained, QoS 1: {"state":"offline",...}. On every
// connection the bridge publishes {"state":"online","ts":...,"version":...}
// there, retained; on clean shutdown {"state":"offline","reason":"shutdown"}
// before DISCONNECT. Every Monitor.MetricsInterval it publishes
// <prefix>/metrics: uptime, version, queue depth, forwarded and dropped
// counts, reconnects, uplink state, and what Options.Metrics adds.
//
// # Keepalive
//
// A PINGREQ goes out when the link has been quiet for half the keepalive; a
// connection from which nothing arrived for a whole keepalive is dropped, so
// a silent (blackholed) uplink is noticed within 1.25 × KeepAlive. All
// timeouts use the monotonic clock.
//
// # Limitations
//
// Exactly-once holds for messages going upstream; messages coming from the
// upstream at QoS 2 are deduplicated per process (a restart between PUBREC
// and PUBREL may deliver one twice locally). A queue entry dropped by the
// overflow policy while in flight is still delivered once by the running
// process; if the process restarts after such an entry's PUBREC, the
// upstream keeps that exchange open until its packet identifier comes round
// again (65000 messages later).
package bridge
