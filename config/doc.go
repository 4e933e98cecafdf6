// Package config is the schema of the gateway's YAML configuration file:
// the Config struct, its defaults and its validation. It imports nothing else
// from this module; cmd/gateway turns a Config into each component's options
// (and hands each sensor's driver options to the sensors registry to check).
//
// # Loading
//
// Load reads a file and Parse decodes bytes. Decoding is strict: an unknown
// key, a value of the wrong type, an out-of-range value, a missing required
// key or a key given twice is an error. Every error is reported at once, each
// an *Error naming the file, line and key path:
//
//	gateway.yaml:14: broker.listeners[1].tls.cert_file: file not found: /etc/gateway/server.pem
//	gateway.yaml:31: sensors[2].name: duplicate sensor name "kitchen" (first on line 25)
//
// The file holds one YAML document. Top-level keys starting with "x-" are
// ignored, so they can hold YAML anchors for "<<" merge keys:
//
//	x-fast: &fast {interval: 1s, qos: 1}
//	sensors:
//	  - {<<: *fast, name: demo, driver: sim}
//
// # Values
//
// Durations are Go durations ("500ms", "30s", "2m"); a bare number is an
// error. Sizes are bytes: "1000", "10KB" (10×1000), "10KiB" (10×1024),
// "64MiB", "1GB". See Duration and Size.
//
// Relative paths (gateway.data_dir, TLS files, *_file secrets) are relative to
// the working directory of the gateway process, not to the config file:
// examples/demo.yaml uses data_dir ./data/demo for `make run` from the
// repository root. Under systemd, use absolute paths.
//
// # Secrets and the environment
//
// In every value, ${NAME} is replaced by the environment variable NAME; an
// unset variable is an error naming it. $$ stands for a single $. Any other $
// is kept, so bcrypt hashes ("$2a$10$…") need no escaping. An unquoted value
// is typed after expansion (keepalive: ${KA} works with KA=30s, port: ${P}
// gives an integer); a quoted one stays a string. In a flow mapping
// ({a: b}) quote values that use ${…}, since YAML reads the braces.
//
// Secrets can also come from files, the contents read at load time with
// trailing newlines trimmed: bridge.password_file instead of bridge.password,
// and broker.users[].password_hash_file instead of password_hash. Setting
// both of a pair is an error. Under systemd, LoadCredential= and
// ${CREDENTIALS_DIRECTORY} combine well with this (see
// examples/pi-bridge-mtls.yaml).
//
// # Defaults
//
// Every default is documented on its field, and applied in one place
// (applyDefaults). The README's "Configuration reference" lists every key
// with its type, default and meaning.
//
// # Sensors
//
// A sensor entry has common keys (name, driver, interval, timeout, topic,
// qos, retain, process); every other key is a driver option, kept raw in
// Sensor.Options with its line, for the driver to validate.
package config
