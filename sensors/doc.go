// Package sensors reads devices and publishes their readings as MQTT messages.
//
// # Concepts
//
// A sensor goes through five stages, each with one owner:
//
//   - Spec: one entry of the config file's sensors list (name, driver,
//     interval, topic, QoS, per-quantity Process, and the driver's own keys in
//     Options, with file:line for errors). The config package builds it.
//   - Driver: knows one kind of device. Check validates a Spec without touching
//     hardware (gateway check); Open turns a Spec and a Hardware into a Sensor.
//     Drivers live in a Registry, a value filled explicitly in cmd/gateway
//     (no init side effects): NewRegistry, Register, Check, Open.
//   - Sensor: one device, read synchronously with Sense(ctx) and released with
//     Halt. It may also be a Watcher (reports changes as they happen: GPIO
//     edges, lines on a UART), an Actuator (driven from "<topic>/set"), a
//     QuantitySetter (some quantities written from "<topic>/<quantity>/set")
//     a Commander (one-off commands on "<topic>/<name>", like an scd4x's
//     "<topic>/calibrate") or a Follower (uses readings another sensor
//     publishes, like an sgp30's humidity compensation).
//   - Poller: owns the goroutines of one sensor. It calls Sense every Interval
//     with a per-read Timeout, backs off exponentially while the sensor fails,
//     runs Watch beside the poll loop, feeds "<topic>/set" to Set, applies
//     each quantity's Process (scale, offset, rounding, unit, deadband) and
//     reports the sensor's health on "<topic>/status".
//   - Publisher: where the messages go. cmd/gateway adapts the broker's inline
//     client to it; tests use sensorstest.Publisher. This package imports
//     nothing from mqttcore.
//
// # Messages
//
// Each quantity of a sensor is published on "<topic>/<quantity>" with the
// sensor's QoS and retain flag, as JSON (see Payload):
//
//	{"value": 21.53, "unit": "°C", "ts": "2026-11-22T10:00:00.123Z"}
//
// The timestamp is RFC 3339 in UTC with milliseconds. When the system clock is
// not synchronized (see SystemClockSynced) the payload carries
// "clock":"unsynced", so a board that booted without an RTC does not silently
// report 1970. NaN and ±Inf are errors and never published.
//
// The health of a sensor goes retained to "<topic>/status" whenever it
// changes (see Status):
//
//	{"state": "error", "error": "ds18b20: 28-0316a2794bff: device removed", "ts": "…"}
//
// An Actuator's new state goes retained to "<topic>/state" after each Set.
// A QuantitySetter's value read back after a write goes to
// "<topic>/<quantity>" at once, and each command's outcome (SetResult), not
// retained, to "<topic>/<quantity>/set/result". A Commander's command
// outcome goes, not retained, to "<topic>/<name>/result".
// The quantity names "status" and "set" are therefore reserved.
//
// # Concurrency
//
// The poller never calls Sense, Set and Halt concurrently with one another;
// Watch runs in its own goroutine beside them, so a Watcher must be safe for
// that. Halt is called once, after everything else has returned.
package sensors
