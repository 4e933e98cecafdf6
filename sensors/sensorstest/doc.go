// Package sensorstest provides test doubles for the sensors package and its
// drivers: a scripted Sensor (plus Watcher and Actuator variants), a
// recording Publisher and Subscriber, a Hardware built from the buses, pins
// and serial ports a test passes, a pseudo-terminal pair for serial drivers,
// a slog handler that records, and WaitFor, a polling wait with a deadline.
//
// Everything here is safe for concurrent use. Limitations: Subscriber matches
// MQTT wildcards but knows nothing of '$' topics or QoS; Publisher records
// what it is given and never blocks.
package sensorstest
