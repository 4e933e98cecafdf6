// Package session is the per-client MQTT 3.1.1 delivery state, as a pure
// state machine: no sockets, no goroutines, no clock (time is passed in).
//
// A [Session] holds what section 4.1 of the standard says a server must keep
// for a client ("Storing state"):
//
//   - outbound QoS 1 and QoS 2 messages that are in flight: PUBLISH sent and
//     PUBACK (QoS 1) or PUBREC (QoS 2) awaited, then PUBREL sent and PUBCOMP
//     awaited. At most Options.MaxInflight messages are in flight; the rest
//     wait in a FIFO bounded by Options.MaxQueued, and messages that do not
//     fit are dropped and counted.
//   - inbound QoS 2 packet identifiers whose PUBLISH was received and whose
//     PUBREL has not arrived yet, so that a re-sent PUBLISH is not delivered
//     twice [MQTT-4.3.3-2].
//   - the next packet identifier: identifiers in use are skipped, 0 is never
//     used, and the counter wraps after 65535 [MQTT-2.3.1-1].
//
// The owner (the broker) drives it:
//
//	out, res := s.Publish(msg, now) // res == Send: write out now
//	s.Ack(id)                       // PUBACK received
//	s.Received(id); s.Complete(id)  // PUBREC received (send PUBREL); PUBCOMP received
//	for o, ok := s.Next(now); ok; o, ok = s.Next(now) { write o }  // after every ack
//	s.Disconnect()                  // connection lost: new messages are queued
//	for _, o := range s.Resume(now) { write o } // reconnected: re-send in order [MQTT-4.4.0-1]
//
// A Session is not safe for concurrent use; its owner serialises access.
// [Session.MarshalBinary] and [Unmarshal] turn it into bytes and back for
// persistence.
package session
