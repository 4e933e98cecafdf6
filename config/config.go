package config

// Config is the whole configuration file after ${ENV} expansion, *_file
// secrets, defaults and validation. Every field mirrors a YAML key (the yaml
// tag); the json tags use the same names so a Config can be printed back.
type Config struct {
	// File is the path the configuration was read from (as given to Load or
	// Parse); errors and sensor options name it.
	File string `yaml:"-" json:"file"`

	// Gateway identifies this gateway and says where it keeps its state.
	Gateway Gateway `yaml:"gateway" json:"gateway"`
	// Log selects the log level and format.
	Log Log `yaml:"log" json:"log"`
	// Broker configures the local MQTT broker.
	Broker Broker `yaml:"broker" json:"broker"`
	// Bridge configures the upstream connection. Nil when the file has no
	// bridge section: the gateway then runs stand-alone.
	Bridge *Bridge `yaml:"bridge" json:"bridge"`
	// Monitor configures the status and metrics topics published on the
	// upstream broker. It has no effect without a bridge.
	Monitor Monitor `yaml:"monitor" json:"monitor"`
	// HomeAssistant configures Home Assistant MQTT discovery.
	HomeAssistant HomeAssistant `yaml:"homeassistant" json:"homeassistant"`
	// HTTP configures the local status page, /metrics and /healthz. Nil
	// when the file has no http section: no HTTP listener.
	HTTP *HTTP `yaml:"http" json:"http,omitempty"`
	// Sensors lists the devices to poll, in file order. Names are unique.
	Sensors []Sensor `yaml:"sensors" json:"sensors"`
	// Remote lets the upstream change this file and run commands (see
	// the README's trust model). Off unless enabled here.
	Remote Remote `yaml:"remote" json:"remote"`
}

// Remote is the remote section: configuration and commands received from
// the upstream broker, on topics under monitor.topic_prefix. Either needs a
// bridge section.
type Remote struct {
	// Config accepts new configuration documents on <prefix>/config/set and
	// answers <prefix>/config/get. Default false.
	Config bool `yaml:"config" json:"config"`
	// Commands runs the commands sent to <prefix>/cmd/<name>. Default false.
	Commands bool `yaml:"commands" json:"commands"`
	// ConfigPublicKey, when set, is an ed25519 public key (32 bytes,
	// standard base64): only documents signed with its private key are
	// accepted on <prefix>/config/set. Empty: no signature is checked.
	ConfigPublicKey string `yaml:"config_public_key" json:"config_public_key,omitempty"`
	// RollbackAfter is how long a remote change of the bridge connection
	// (addresses, client id, credentials, TLS) has to bring the uplink back:
	// otherwise the last configuration with a working uplink is restored.
	// At least 1s. Default 2m.
	RollbackAfter Duration `yaml:"rollback_after" json:"rollback_after"`
}

// Gateway is the gateway section.
type Gateway struct {
	// ID names this gateway: the default bridge client id and monitor topic
	// prefix derive from it. Required; letters, digits, '.', '_' and '-'.
	ID string `yaml:"id" json:"id"`
	// DataDir is the directory holding the bbolt files (queue, retained
	// messages, sessions). A relative path is relative to the gateway's
	// working directory, like every other path in the file.
	// Default "/var/lib/gateway".
	DataDir string `yaml:"data_dir" json:"data_dir"`
}

// Log is the log section.
type Log struct {
	// Level is the minimum level logged: "debug", "info", "warn" or "error".
	// Default "info".
	Level string `yaml:"level" json:"level"`
	// Format is "text" (log/slog's TextHandler) or "json" (JSONHandler).
	// Default "text".
	Format string `yaml:"format" json:"format"`
}

// Broker is the broker section: the local MQTT 3.1.1 broker.
type Broker struct {
	// Listeners are the network endpoints the broker accepts clients on.
	// Default, when the key is absent: one plain TCP listener on
	// 127.0.0.1:1883. An explicit empty list ("listeners: []") means no
	// network listener at all: only sensors and the bridge use the broker.
	Listeners []Listener `yaml:"listeners" json:"listeners"`
	// AllowAnonymous lets clients connect without a username. Default true.
	AllowAnonymous bool `yaml:"allow_anonymous" json:"allow_anonymous"`
	// Users are the accounts clients may authenticate as. Usernames are
	// unique.
	Users []User `yaml:"users" json:"users"`
	// ACL are the access rules, in order: the first rule matching a client
	// and topic decides; a rule without username applies to every client;
	// when there is at least one rule, a topic no rule matches is denied.
	// Empty: everything is allowed.
	ACL []ACLRule `yaml:"acl" json:"acl"`
	// Limits bound what clients may use.
	Limits Limits `yaml:"limits" json:"limits"`
	// SysInterval is how often the $SYS topics are republished. At least 1s.
	// Default 10s.
	SysInterval Duration `yaml:"sys_interval" json:"sys_interval"`
}

// Listener is one entry of broker.listeners.
type Listener struct {
	// Address is host:port to bind, e.g. "127.0.0.1:1883" or ":8883" (all
	// interfaces). Port 0 picks a free port. Required; unique.
	Address string `yaml:"address" json:"address"`
	// TLS, when set, makes this a TLS listener (MQTT over TLS, or secure
	// WebSocket together with WebSocket). Nil: plain TCP.
	TLS *ListenerTLS `yaml:"tls" json:"tls,omitempty"`
	// WebSocket, when set, serves MQTT over WebSocket on this listener
	// instead of raw MQTT. Nil: raw MQTT.
	WebSocket *WebSocket `yaml:"websocket" json:"websocket,omitempty"`
}

// ListenerTLS is a listener's tls section.
type ListenerTLS struct {
	// CertFile is the PEM certificate chain the broker presents. Required;
	// the file must exist.
	CertFile string `yaml:"cert_file" json:"cert_file"`
	// KeyFile is the PEM private key of CertFile. Required; the file must
	// exist.
	KeyFile string `yaml:"key_file" json:"key_file"`
	// ClientCAFile, when set, is a PEM bundle of CAs: clients must then
	// present a certificate signed by one of them (mutual TLS). The file must
	// exist. Empty: no client certificate is asked for.
	ClientCAFile string `yaml:"client_ca_file" json:"client_ca_file,omitempty"`
}

// WebSocket is a listener's websocket section.
type WebSocket struct {
	// Path is the HTTP path the WebSocket upgrade is served on; it starts
	// with "/". Default "/mqtt".
	Path string `yaml:"path" json:"path"`
}

// User is one entry of broker.users.
type User struct {
	// Username is the name the client sends in CONNECT. Required; unique.
	Username string `yaml:"username" json:"username"`
	// PasswordHash is the bcrypt hash ("$2a$", "$2b$" or "$2y$", 60
	// characters) of the user's password, e.g. from
	// `htpasswd -nbBC 10 "" secret | cut -d: -f2`. Exactly one of
	// PasswordHash and PasswordHashFile is set in the file; after loading,
	// PasswordHash always holds the hash.
	PasswordHash string `yaml:"password_hash" json:"password_hash"`
	// PasswordHashFile is a file holding the bcrypt hash (trailing newlines
	// are trimmed). It is read at load time into PasswordHash.
	PasswordHashFile string `yaml:"password_hash_file" json:"password_hash_file,omitempty"`
}

// ACLRule is one entry of broker.acl.
type ACLRule struct {
	// Username restricts the rule to one user. Empty: every client.
	Username string `yaml:"username" json:"username,omitempty"`
	// Topic is a topic filter (wildcards + and # allowed). "%c" stands for
	// the client id and "%u" for the username. Required.
	Topic string `yaml:"topic" json:"topic"`
	// Access is "read" (subscribe), "write" (publish), "readwrite" or
	// "deny". Required.
	Access string `yaml:"access" json:"access"`
}

// Limits is broker.limits.
type Limits struct {
	// MaxConnections is the most clients connected at once; more are
	// refused. 1 to 1000000. Default 256.
	MaxConnections int `yaml:"max_connections" json:"max_connections"`
	// MaxPacketSize is the largest MQTT packet accepted from a client, in
	// bytes, fixed header included; a client sending more is disconnected.
	// 64 bytes to 256MiB. Default 1MiB.
	MaxPacketSize Size `yaml:"max_packet_size" json:"max_packet_size"`
	// MaxInflight is how many QoS 1/2 messages the broker has outstanding
	// (unacknowledged) to one client. 1 to 65535. Default 32.
	MaxInflight int `yaml:"max_inflight" json:"max_inflight"`
	// MaxQueuedMessages is how many messages the broker holds for one client
	// beyond MaxInflight (while it is slow or, with a persistent session,
	// offline) before dropping them. At least 1. Default 1000.
	MaxQueuedMessages int `yaml:"max_queued_messages" json:"max_queued_messages"`
	// MaxQueuedBytes bounds the topic and payload bytes of those messages
	// per client in the same way (one message always fits). 1KiB to 1GiB.
	// Default 16MiB.
	MaxQueuedBytes Size `yaml:"max_queued_bytes" json:"max_queued_bytes"`
	// MaxTopicLevels is the most levels a topic name or filter may have in a
	// PUBLISH, SUBSCRIBE, will or retained message; a client over it is
	// disconnected (SUBACK 0x80 for a filter). 1 to 65535. Default 200,
	// as in Mosquitto.
	MaxTopicLevels int `yaml:"max_topic_levels" json:"max_topic_levels"`
	// MaxTopicLength is the longest topic name or filter in bytes, enforced
	// like MaxTopicLevels. 1 to 65535. Default 8192.
	MaxTopicLength int `yaml:"max_topic_length" json:"max_topic_length"`
	// MaxSessions is the most persistent sessions (clean session 0), online
	// or offline; a client that would create one more is refused (CONNACK
	// 0x03). 1 to 1000000. Default 1000.
	MaxSessions int `yaml:"max_sessions" json:"max_sessions"`
	// SessionExpiry discards a persistent session whose client has been
	// away this long, with its subscriptions and queued messages (like
	// Mosquitto's persistent_client_expiration). 0 keeps sessions for ever.
	// It is also the longest Session Expiry Interval an MQTT 5.0 client
	// is granted (a longer one is capped and the CONNACK says so).
	// Default 168h (a week).
	SessionExpiry Duration `yaml:"session_expiry" json:"session_expiry"`
	// ReceiveMaximum is the Receive Maximum announced to MQTT 5.0 clients:
	// how many QoS 1/2 PUBLISHes one may have unacknowledged; one more
	// ends its connection (DISCONNECT 0x93). 1 to 65535. Default 256.
	ReceiveMaximum int `yaml:"receive_maximum" json:"receive_maximum"`
	// TopicAliasMaximum is the Topic Alias Maximum announced to MQTT 5.0
	// clients: how many topic aliases each may set on its connection. 0
	// accepts none. 0 to 65535. Default 16.
	TopicAliasMaximum int `yaml:"topic_alias_maximum" json:"topic_alias_maximum"`
	// TopicAliasOut is how many topic aliases the broker sets, per
	// connection, on the messages it sends to an MQTT 5.0 client that
	// accepts them (its CONNECT's Topic Alias Maximum, the lower of the
	// two): the first topics sent get one. 0 sets none. 0 to 65535.
	// Default 16.
	TopicAliasOut int `yaml:"topic_alias_out" json:"topic_alias_out"`
	// MaxRetainedMessages and MaxRetainedBytes (topics and payloads) bound
	// the retained messages, including those from the upstream; one that
	// does not fit is delivered but not retained. Defaults 100000 and
	// 64MiB; 1 to 10000000, 1KiB to 1GiB (an int on 32-bit ARM).
	MaxRetainedMessages int  `yaml:"max_retained_messages" json:"max_retained_messages"`
	MaxRetainedBytes    Size `yaml:"max_retained_bytes" json:"max_retained_bytes"`
}

// Bridge is the bridge section: one upstream connection.
type Bridge struct {
	// Addresses are the upstream brokers, tried in order (failover). Each is
	// scheme://host[:port] with scheme tcp or mqtt (plain) or tls or mqtts
	// (TLS); after loading they are normalized to "tcp://host:port" or
	// "tls://host:port", the port defaulting to 1883 (plain) or 8883 (TLS).
	// At least one is required.
	Addresses []string `yaml:"addresses" json:"addresses"`
	// ClientID is the MQTT client id used upstream. Default gateway.id.
	ClientID string `yaml:"client_id" json:"client_id"`
	// Username is sent in CONNECT when set.
	Username string `yaml:"username" json:"username,omitempty"`
	// Password is sent in CONNECT when set; it needs Username
	// [MQTT-3.1.2-22]. Set at most one of Password and PasswordFile; after
	// loading, Password holds the secret either way.
	Password string `yaml:"password" json:"password,omitempty"`
	// PasswordFile is a file holding the password (trailing newlines are
	// trimmed), read at load time into Password.
	PasswordFile string `yaml:"password_file" json:"password_file,omitempty"`
	// KeepAlive is the MQTT keepalive sent upstream, whole seconds, 0
	// (disabled) to 65535s. Default 30s.
	KeepAlive Duration `yaml:"keepalive" json:"keepalive"`
	// CleanSession asks the upstream to discard the session on connect.
	// Default false (a persistent session, so QoS 1/2 subscriptions of "in"
	// rules survive reconnects).
	CleanSession bool `yaml:"clean_session" json:"clean_session"`
	// Protocol is the MQTT version spoken to the upstream: "3.1.1" or "5".
	// Default "3.1.1", which every upstream accepts (AWS IoT Core, Azure
	// IoT Hub and old brokers included); "5" carries MQTT 5.0 properties
	// upstream and honours the upstream's limits (see the README).
	Protocol string `yaml:"protocol" json:"protocol"`
	// SessionExpiry is the MQTT 5.0 Session Expiry Interval: how long the
	// upstream keeps the bridge's session after a disconnection, whole
	// seconds, 1s to 4294967294s. Unset (0): the session never expires.
	// Only with protocol "5", not with clean_session.
	SessionExpiry Duration `yaml:"session_expiry" json:"session_expiry,omitempty"`
	// Inflight is how many QoS 1/2 messages may await PUBACK/PUBCOMP from the
	// upstream at once. Default 20, Mosquitto's default max_inflight_messages:
	// Mosquitto PUBRECs and silently drops incoming QoS 2 messages beyond it,
	// so keep this at or below the upstream's limit.
	Inflight int `yaml:"inflight" json:"inflight"`
	// TLS configures tls:// and mqtts:// addresses. Nil: the system's CA
	// roots and no client certificate. Setting it while no address uses TLS
	// is an error.
	TLS *BridgeTLS `yaml:"tls" json:"tls,omitempty"`
	// Reconnect bounds the backoff between connection attempts.
	Reconnect Reconnect `yaml:"reconnect" json:"reconnect"`
	// Topics are the forwarding rules. None: only the monitor topics are
	// published upstream.
	Topics []BridgeTopic `yaml:"topics" json:"topics"`
	// Queue bounds the durable queue of messages bound upstream.
	Queue Queue `yaml:"queue" json:"queue"`
	// DrainRate caps how many queued messages per second are sent upstream
	// after an outage, to spare a metered or slow uplink. 0 = unlimited.
	// Default 0.
	DrainRate float64 `yaml:"drain_rate" json:"drain_rate"`
	// LiveFirst sends messages that arrive while a backlog drains ahead of
	// the backlog (each stream in order), so fresh readings are not held
	// behind an outage's worth of old ones. Default false: strict FIFO.
	LiveFirst bool `yaml:"live_first" json:"live_first"`
}

// BridgeTLS is bridge.tls.
type BridgeTLS struct {
	// CAFile is a PEM bundle of CAs that may sign the upstream's certificate.
	// Empty: the system's roots. The file must exist.
	CAFile string `yaml:"ca_file" json:"ca_file,omitempty"`
	// CertFile is the client certificate for mutual TLS. Set together with
	// KeyFile; the file must exist.
	CertFile string `yaml:"cert_file" json:"cert_file,omitempty"`
	// KeyFile is CertFile's private key. Set together with CertFile; the file
	// must exist.
	KeyFile string `yaml:"key_file" json:"key_file,omitempty"`
	// ServerName is the name verified in the upstream's certificate (and sent
	// as SNI). Empty: the address's host.
	ServerName string `yaml:"server_name" json:"server_name,omitempty"`
	// InsecureSkipVerify disables verification of the upstream's
	// certificate. For tests only. Default false.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify" json:"insecure_skip_verify"`
}

// Reconnect is bridge.reconnect: capped, jittered exponential backoff.
type Reconnect struct {
	// MinDelay is the mean wait after a lost connection (random between 0
	// and twice it) and the shortest after a failed attempt (random up to
	// twice it, doubling with every failure). More than 0. Default 1s. A
	// large fleet sharing one upstream raises it: the upstream sees about
	// gateways / (2 × min_delay) connections per second after a short
	// outage (README, "A fleet").
	MinDelay Duration `yaml:"min_delay" json:"min_delay"`
	// MaxDelay caps the wait. At least MinDelay. Default 2m.
	MaxDelay Duration `yaml:"max_delay" json:"max_delay"`
}

// Directions of a bridge topic rule.
const (
	DirectionOut  = "out"  // local → upstream
	DirectionIn   = "in"   // upstream → local
	DirectionBoth = "both" // both ways
)

// BridgeTopic is one entry of bridge.topics. A message on local topic
// LocalPrefix+T, T matching Pattern, is forwarded as RemotePrefix+T (out), and
// the other way round (in).
type BridgeTopic struct {
	// Pattern is a topic filter (wildcards allowed), without the prefixes.
	// Required.
	Pattern string `yaml:"pattern" json:"pattern"`
	// Direction is "out", "in" or "both". Default "out".
	Direction string `yaml:"direction" json:"direction"`
	// QoS is the highest QoS used for forwarded messages (and of the upstream
	// subscription for "in"): 0, 1 or 2. Default 1, because only QoS 1/2
	// messages go through the durable queue (Mosquitto's default is 0).
	QoS int `yaml:"qos" json:"qos"`
	// LocalPrefix is prepended to Pattern on the local broker. No wildcards.
	// Default "".
	LocalPrefix string `yaml:"local_prefix" json:"local_prefix"`
	// RemotePrefix is prepended to Pattern on the upstream. No wildcards.
	// Default "".
	RemotePrefix string `yaml:"remote_prefix" json:"remote_prefix"`
}

// Overflow policies of the bridge queue.
const (
	OverflowDropOldest = "drop_oldest" // make room by dropping the oldest message
	OverflowDropNew    = "drop_new"    // refuse the new message
)

// Queue is bridge.queue: the durable (bbolt) queue of upstream-bound messages.
type Queue struct {
	// MaxMessages is the most messages kept. At least 1. Default 1000000.
	MaxMessages int `yaml:"max_messages" json:"max_messages"`
	// MaxBytes is the most payload-and-topic bytes kept. At least 1KiB.
	// Default 512MiB.
	MaxBytes Size `yaml:"max_bytes" json:"max_bytes"`
	// Overflow is what happens when a limit is hit: "drop_oldest" or
	// "drop_new". Dropped messages are counted in the metrics.
	// Default "drop_oldest".
	Overflow string `yaml:"overflow" json:"overflow"`
	// TTL drops a message still queued this long after it was queued
	// (counted as "expired"), e.g. readings not worth sending after a
	// week-long outage. Measured on the boot-relative clock, so a clock
	// step (a Pi without RTC setting its time) neither expires everything
	// nor keeps everything. 0 (the default) keeps messages until acknowledged.
	TTL Duration `yaml:"ttl" json:"ttl,omitempty"`
	// CommitDelay is how long a QoS 1 message from a local client waits in
	// memory for the upstream's PUBACK before it is written to flash: one
	// the upstream acknowledges in time is never written. Its publisher
	// gets its PUBACK with the upstream's, or once the message is on disk,
	// so this is the most latency it adds. The gateway writes at once
	// instead while the uplink is down, a backlog drains, or the upstream's
	// recent acknowledgements took longer than this. QoS 2 is always
	// written ahead. 0 writes every message ahead. Default 30ms.
	CommitDelay Duration `yaml:"commit_delay" json:"commit_delay"`
	// SensorCommitDelay is the same for sensor readings at QoS 1, which no
	// client waits for: a power cut loses at most this much of them (never
	// anything acknowledged to a client). 0 writes each reading ahead.
	// Default 2s.
	SensorCommitDelay Duration `yaml:"sensor_commit_delay" json:"sensor_commit_delay"`
}

// Monitor is the monitor section.
type Monitor struct {
	// TopicPrefix is where status (<prefix>/status) and metrics
	// (<prefix>/metrics) are published on the upstream. A topic name without
	// wildcards or trailing '/'. Default "gateways/<gateway.id>".
	TopicPrefix string `yaml:"topic_prefix" json:"topic_prefix"`
	// MetricsInterval is how often metrics are published. At least 1s.
	// Default 30s.
	MetricsInterval Duration `yaml:"metrics_interval" json:"metrics_interval"`
}

// HomeAssistant is the homeassistant section.
type HomeAssistant struct {
	// Discovery publishes a retained Home Assistant MQTT discovery config
	// for every sensor quantity. Default false.
	Discovery bool `yaml:"discovery" json:"discovery"`
	// Prefix is Home Assistant's discovery prefix. Default "homeassistant".
	Prefix string `yaml:"prefix" json:"prefix"`
}

// HTTP is the http section: a local status page (/), its data
// (/status.json), Prometheus metrics (/metrics) and the health check
// (/healthz).
type HTTP struct {
	// Address is host:port to bind, e.g. "127.0.0.1:8080" (loopback only)
	// or ":8080" (every interface). Required.
	Address string `yaml:"address" json:"address"`
	// Auth asks for HTTP basic auth, checked against broker.users' bcrypt
	// hashes (throttled like MQTT logins). Default true when Users is set,
	// false otherwise; true needs at least one broker user.
	Auth bool `yaml:"auth" json:"auth"`
	// Users, when set, are the broker.users allowed in (each must be one of
	// them). Empty: every broker user.
	Users []string `yaml:"users" json:"users,omitempty"`
	// TLS, when set, serves HTTPS with this certificate (as a broker
	// listener's tls section: client_ca_file asks for client
	// certificates). Nil: plain HTTP.
	TLS *ListenerTLS `yaml:"tls" json:"tls,omitempty"`
}

// Sensor is one entry of the sensors list: the common keys, and every other
// key as a raw driver option.
type Sensor struct {
	// Name identifies the sensor in topics and logs. Required; unique;
	// letters, digits, '_' and '-'.
	Name string `yaml:"name" json:"name"`
	// Driver names the driver in cmd/gateway's registry (sim, bme280,
	// ds18b20, gpio_in, gpio_out, serial, …). Required.
	Driver string `yaml:"driver" json:"driver"`
	// Interval is the time between polls. At least 10ms. Default 10s.
	Interval Duration `yaml:"interval" json:"interval"`
	// Timeout bounds one poll. More than 0. Default the smaller of Interval
	// and 5s.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// Topic is the prefix of the reading topics: each quantity is published
	// on Topic + "/" + quantity. A topic name without wildcards or trailing
	// '/'. Default "sensors/<name>".
	Topic string `yaml:"topic" json:"topic"`
	// QoS of the readings: 0, 1 or 2. Default 0.
	QoS int `yaml:"qos" json:"qos"`
	// Retain publishes readings retained. Default true for the state drivers
	// gpio_in and gpio_out (a client subscribing later sees the current
	// state), false for the others.
	Retain bool `yaml:"retain" json:"retain"`
	// Process is the per-quantity processing, keyed by quantity name.
	Process map[string]Process `yaml:"process" json:"process,omitempty"`
	// Options are the driver's own keys: every key of the entry not listed
	// above, with its raw value. The driver validates them.
	Options map[string]Option `yaml:",inline" json:"options,omitempty"`
	// Line is the line of the entry in the file.
	Line int `yaml:",line" json:"line"`
}

// Process is one quantity's processing (sensors[].process.<quantity>),
// applied in this order: value*Scale + Offset, rounded to Round decimals,
// then the deadband filter.
type Process struct {
	// Scale multiplies the value. Finite and not 0. Default 1.
	Scale float64 `yaml:"scale" json:"scale"`
	// Offset is added after scaling. Default 0.
	Offset float64 `yaml:"offset" json:"offset"`
	// Round is the number of decimals kept, 0 to 15; -1 keeps full
	// precision. Default -1.
	Round int `yaml:"round" json:"round"`
	// Deadband publishes a reading only when it differs from the last one
	// published by at least this much. 0 = every reading. Default 0.
	Deadband float64 `yaml:"deadband" json:"deadband"`
	// MaxInterval, with a deadband, forces a publish at least this often.
	// 0 = never forced. Default 0.
	MaxInterval Duration `yaml:"max_interval" json:"max_interval"`
	// Unit replaces the driver's unit in the payload when set.
	Unit string `yaml:"unit" json:"unit,omitempty"`
}

// Option is one driver option as YAML decoded it: string, int (int64 or
// uint64 when too large for int), float64, bool, []any, map[string]any, or
// nil for an empty value. Hex like 0x76 is the int 118; a date stays the
// string written. Line is where the key stands (for a key merged in with
// "<<", the line in the anchored mapping).
type Option struct {
	Value any `json:"value"`
	Line  int `json:"line"`
	// Lines are the lines of the elements nested in Value, by their path
	// below the key: "[2]" for a list's third element, "[2].type" for a key
	// of that element, "temp" for a key of a mapping. nil for a scalar.
	Lines map[string]int `json:"-"`
}
