// Package mqttcore holds the MQTT side of the gateway. It has no code of its
// own; its sub-packages are layered so that imports flow one way:
//
//	packet   the MQTT 3.1.1 and 5.0 codec: bounds-checked, fuzzed, no socket
//	topic    topic name/filter validation and the subscription trie
//	session  packet identifiers and inflight QoS 1/2 state: a pure state machine
//	broker   the local broker: listeners, sessions, QoS flows, retained, will,
//	         keepalive, auth/ACL, $SYS and the in-process (inline) client
//	bridge   the upstream client: reconnects, drains the offline queue, monitor topics
//
// packet ← topic ← session ← broker, bridge. broker and bridge never import
// each other; cmd/gateway wires them together.
package mqttcore
