package statuspage

import "time"

// Snapshot is the gateway's state at one moment: the body of /status.json
// and the figures of /metrics (those of the upstream metrics topic).
type Snapshot struct {
	// GatewayID is gateway.id; Version the binary's version.
	GatewayID string `json:"gateway_id"`
	Version   string `json:"version"`
	// TS is when the snapshot was taken; UptimeSeconds how long the
	// gateway has run then.
	TS            time.Time `json:"ts"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	// Uplink and Queue are nil without a bridge.
	Uplink *Uplink `json:"uplink"`
	Queue  *Queue  `json:"queue"`
	// LocalClients counts the MQTT clients connected to the local broker.
	LocalClients int    `json:"local_clients"`
	Broker       Broker `json:"broker"`
	Store        Store  `json:"store"`
	// Sensors are the configured sensors, in file order.
	Sensors []Sensor `json:"sensors"`
	// RSSBytes and DiskFreeBytes are 0 when they could not be read.
	RSSBytes      int64  `json:"rss_bytes"`
	DiskFreeBytes uint64 `json:"disk_free_bytes"`
	// Health is the health check's latest verdict.
	Health Health `json:"health"`
}

// Uplink is the bridge's connection to the upstream broker.
type Uplink struct {
	// State is "online" or "offline", as in the metrics topic.
	State string `json:"state"`
	// Address is the current upstream address, or the last one.
	Address string `json:"address"`
	// ConnectedSeconds is how long the connection has been up (0 when
	// down).
	ConnectedSeconds float64 `json:"connected_seconds"`
	// Connects counts connections, Reconnects those after the first,
	// ConnectFailures rounds over every address that failed.
	Connects        uint64 `json:"connects"`
	Reconnects      uint64 `json:"reconnects"`
	ConnectFailures uint64 `json:"connect_failures"`
	// Forwarded counts messages the upstream acknowledged; Received those
	// from the upstream published locally.
	Forwarded uint64 `json:"forwarded"`
	Received  uint64 `json:"received"`
	// Inflight counts messages sent and not yet acknowledged.
	Inflight int `json:"inflight"`
	// Dropped counts lost messages by reason (the metrics topic's).
	Dropped map[string]uint64 `json:"dropped"`
	// ServerDisconnects counts the upstream's MQTT 5 DISCONNECTs by reason
	// (e.g. "server_shutting_down"); empty with MQTT 3.1.1.
	ServerDisconnects map[string]uint64 `json:"server_disconnects,omitempty"`
	// LastError is why the last connection attempt or connection failed.
	LastError string `json:"last_error,omitempty"`
	// Outage describes the current outage and the last one.
	Outage Outage `json:"outage"`
}

// Outage is the current outage and the last one that ended, as the
// metrics topic's "outage" object: Count outages since start, the current
// one's age (CurrentSeconds, 0 when connected) and whether its backlog
// still drains, the last one's length, its deepest queue (PeakBacklog, in
// messages) and how long its drain took.
type Outage struct {
	Count            uint64  `json:"count"`
	CurrentSeconds   float64 `json:"current_seconds"`
	Draining         bool    `json:"draining"`
	LastSeconds      float64 `json:"last_seconds"`
	PeakBacklog      uint64  `json:"peak_backlog"`
	LastDrainSeconds float64 `json:"last_drain_seconds"`
}

// Queue is the durable queue of messages bound upstream: its depth in
// messages and bytes (topic and payload), the oldest message's age, and
// the entries moved to quarantine.
type Queue struct {
	Messages         uint64  `json:"messages"`
	Bytes            uint64  `json:"bytes"`
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
	Quarantined      uint64  `json:"quarantined"`
}

// Broker holds the local broker's counters: PUBLISH packets received
// (clients, sensors, bridge) and sent, retained messages and sessions.
type Broker struct {
	PublishReceived uint64 `json:"publish_received"`
	PublishSent     uint64 `json:"publish_sent"`
	Retained        int    `json:"retained"`
	Sessions        int    `json:"sessions"`
}

// Store holds the bbolt store's figures: the file's size, write
// transactions, fdatasync calls, bytes written (estimated) and failed
// transactions.
type Store struct {
	FileSize     int64  `json:"file_size"`
	Commits      uint64 `json:"commits"`
	Fsyncs       uint64 `json:"fsyncs"`
	BytesWritten uint64 `json:"bytes_written"`
	CommitErrors uint64 `json:"commit_errors"`
}

// Sensor states.
const (
	SensorOK          = "ok"          // the last poll succeeded
	SensorError       = "error"       // the last poll failed
	SensorUnavailable = "unavailable" // the device cannot be opened
	SensorStarting    = "starting"    // no poll yet
)

// Sensor is one configured sensor.
type Sensor struct {
	// Name, Driver and Topic are from the configuration.
	Name   string `json:"name"`
	Driver string `json:"driver"`
	Topic  string `json:"topic"`
	// State is one of SensorOK, SensorError, SensorUnavailable,
	// SensorStarting.
	State string `json:"state"`
	// Error is the last error (it stays after a recovery), ErrorTime when.
	Error     string     `json:"error,omitempty"`
	ErrorTime *time.Time `json:"error_ts,omitempty"`
	// Readings are the last published reading of each quantity.
	Readings []Reading `json:"readings"`
	// Reads counts polls, Errors failed polls and rejected readings,
	// Published readings published.
	Reads     uint64 `json:"reads"`
	Errors    uint64 `json:"errors"`
	Published uint64 `json:"published"`
	// Commands counts commands received on "<topic>/set",
	// "<topic>/<quantity>/set" and "<topic>/calibrate"; CommandErrors those
	// that failed, were refused or were dropped (queue full). Both stay 0
	// for a sensor that takes no commands.
	Commands      uint64 `json:"commands"`
	CommandErrors uint64 `json:"command_errors"`
}

// Reading is one quantity's last published reading: its value in Unit,
// measured at TS.
type Reading struct {
	Quantity string    `json:"quantity"`
	Value    float64   `json:"value"`
	Unit     string    `json:"unit"`
	TS       time.Time `json:"ts"`
}

// Health is the health check's verdict.
type Health struct {
	// OK is true when the last check passed and is recent.
	OK bool `json:"ok"`
	// Reason says why not ("" when OK).
	Reason string `json:"reason,omitempty"`
	// CheckedAt is when the last check ran (zero before the first).
	CheckedAt time.Time `json:"checked_at"`
}
