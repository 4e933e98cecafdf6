// Package serial reads sensors that print lines on a UART: GPS receivers
// (NMEA 0183), microcontrollers printing JSON, and anything a regular
// expression can pick apart.
//
// A Dev is both a sensors.Watcher and a sensors.Sensor. Watch owns the port:
// it opens it, reads lines continuously and reports each parsed line's
// readings at once; when the port fails (read error, EOF, the USB adapter
// unplugged) it closes it and reopens it with backoff until it is back. It
// returns only when its ctx is done. Sense returns the latest value of every
// quantity seen within MaxAge, each stamped with the time its line arrived
// (the poller skips those Watch already published); it fails while the port
// is down, and waits for a line (until its ctx expires) when none is fresh.
//
// Formats:
//   - json: each line one object; its numeric fields become quantities,
//     nested objects flattened with "_" ({"env":{"t":21}} gives env_t).
//     Strings, booleans, arrays and nulls are skipped.
//   - regex: the named groups of Pattern, parsed as numbers, become
//     quantities; a line that does not match is garbage.
//   - nmea: GGA and RMC sentences from any talker (GP, GN, GL, …) with their
//     checksum verified: latitude and longitude (decimal degrees, south and
//     west negative), altitude (m), speed (km/h), fix (GGA quality: 0 none,
//     1 GPS, 2 DGPS, …) and satellites. Other sentences are ignored.
//
// Lines that cannot be parsed, fail their checksum or exceed 4096 bytes are
// counted (see Stats) and skipped. A Dev reports at most 256 distinct
// quantities; later new names are dropped.
//
// Config keys (beside the common ones):
//
//	port: /dev/ttyUSB0       # required; passed to Hardware.Serial
//	baud: 9600               # default 9600
//	data_bits: 8             # 5…8, default 8
//	parity: none             # none | odd | even | mark | space
//	stop_bits: 1             # 1 | 1.5 | 2 (Linux has no 1.5: rejected there)
//	format: nmea             # json (default) | regex | nmea
//	pattern: 'T=(?P<temperature>-?[0-9.]+)'   # regex only, at least one named group
//	max_age: 30s             # Sense fails when nothing fresher arrived; default 3×interval
package serial
