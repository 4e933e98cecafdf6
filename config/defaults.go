package config

import (
	"fmt"
	"time"
)

// applyDefaults fills every key the file did not set (has(path) is false)
// with its default. This is the one place defaults live; each is documented
// on its struct field as well. Derived defaults (bridge.client_id,
// monitor.topic_prefix, a sensor's timeout and topic) come from the values
// they derive from, after those got their own defaults.
func applyDefaults(c *Config, has func(path string) bool) {
	set := func(path string, fill func()) {
		if !has(path) {
			fill()
		}
	}
	set("gateway.data_dir", func() { c.Gateway.DataDir = "/var/lib/gateway" })
	set("log.level", func() { c.Log.Level = "info" })
	set("log.format", func() { c.Log.Format = "text" })
	brokerDefaults(&c.Broker, set)
	if c.Bridge != nil {
		bridgeDefaults(c.Bridge, c.Gateway.ID, set)
	}
	set("monitor.topic_prefix", func() { c.Monitor.TopicPrefix = "gateways/" + c.Gateway.ID })
	set("monitor.metrics_interval", func() { c.Monitor.MetricsInterval = Duration(30 * time.Second) })
	set("homeassistant.prefix", func() { c.HomeAssistant.Prefix = "homeassistant" })
	set("remote.rollback_after", func() { c.Remote.RollbackAfter = Duration(2 * time.Minute) })
	if h := c.HTTP; h != nil {
		set("http.auth", func() { h.Auth = len(h.Users) > 0 })
	}
	for i := range c.Sensors {
		sensorDefaults(&c.Sensors[i], fmt.Sprintf("sensors[%d]", i), set)
	}
}

//

// setter applies a default to path when the file did not set it.
type setter func(path string, fill func())

func brokerDefaults(b *Broker, set setter) {
	set("broker.listeners", func() { b.Listeners = []Listener{{Address: "127.0.0.1:1883"}} })
	for i := range b.Listeners {
		if ws := b.Listeners[i].WebSocket; ws != nil {
			set(fmt.Sprintf("broker.listeners[%d].websocket.path", i), func() { ws.Path = "/mqtt" })
		}
	}
	set("broker.allow_anonymous", func() { b.AllowAnonymous = true })
	set("broker.limits.max_connections", func() { b.Limits.MaxConnections = 256 })
	set("broker.limits.max_packet_size", func() { b.Limits.MaxPacketSize = 1 << 20 })
	set("broker.limits.max_inflight", func() { b.Limits.MaxInflight = 32 })
	set("broker.limits.max_queued_messages", func() { b.Limits.MaxQueuedMessages = 1000 })
	set("broker.limits.max_queued_bytes", func() { b.Limits.MaxQueuedBytes = 16 << 20 })
	set("broker.limits.max_topic_levels", func() { b.Limits.MaxTopicLevels = 200 })
	set("broker.limits.max_topic_length", func() { b.Limits.MaxTopicLength = 8192 })
	set("broker.limits.max_sessions", func() { b.Limits.MaxSessions = 1000 })
	set("broker.limits.session_expiry", func() { b.Limits.SessionExpiry = Duration(7 * 24 * time.Hour) })
	set("broker.limits.receive_maximum", func() { b.Limits.ReceiveMaximum = 256 })
	set("broker.limits.topic_alias_maximum", func() { b.Limits.TopicAliasMaximum = 16 })
	set("broker.limits.topic_alias_out", func() { b.Limits.TopicAliasOut = 16 })
	set("broker.limits.max_retained_messages", func() { b.Limits.MaxRetainedMessages = 100_000 })
	set("broker.limits.max_retained_bytes", func() { b.Limits.MaxRetainedBytes = 64 << 20 })
	set("broker.sys_interval", func() { b.SysInterval = Duration(10 * time.Second) })
}

func bridgeDefaults(b *Bridge, gatewayID string, set setter) {
	set("bridge.client_id", func() { b.ClientID = gatewayID })
	set("bridge.keepalive", func() { b.KeepAlive = Duration(30 * time.Second) })
	set("bridge.protocol", func() { b.Protocol = ProtocolMQTT311 })
	set("bridge.inflight", func() { b.Inflight = 20 }) // Mosquitto's max_inflight_messages: more QoS 2 in flight are PUBREC'd and dropped
	set("bridge.reconnect.min_delay", func() { b.Reconnect.MinDelay = Duration(time.Second) })
	set("bridge.reconnect.max_delay", func() { b.Reconnect.MaxDelay = Duration(2 * time.Minute) })
	set("bridge.queue.max_messages", func() { b.Queue.MaxMessages = 1_000_000 })
	set("bridge.queue.max_bytes", func() { b.Queue.MaxBytes = 512 << 20 })
	set("bridge.queue.overflow", func() { b.Queue.Overflow = OverflowDropOldest })
	set("bridge.queue.commit_delay", func() { b.Queue.CommitDelay = Duration(30 * time.Millisecond) })
	set("bridge.queue.sensor_commit_delay", func() { b.Queue.SensorCommitDelay = Duration(2 * time.Second) })
	for i := range b.Topics {
		t, path := &b.Topics[i], fmt.Sprintf("bridge.topics[%d]", i)
		set(path+".direction", func() { t.Direction = DirectionOut })
		set(path+".qos", func() { t.QoS = 1 })
	}
	// clean_session false, drain_rate 0 (unlimited): the zero values.
}

// stateDrivers are the sensor drivers whose readings are states (a button,
// a relay) rather than measurements: their retain defaults to true.
var stateDrivers = map[string]bool{"gpio_in": true, "gpio_out": true}

func sensorDefaults(s *Sensor, path string, set setter) {
	set(path+".interval", func() { s.Interval = Duration(10 * time.Second) })
	set(path+".timeout", func() { s.Timeout = min(s.Interval, Duration(5*time.Second)) })
	set(path+".topic", func() { s.Topic = "sensors/" + s.Name })
	// Inputs and outputs report a state, which a client subscribing later
	// must see: retained by default. Measurements are not. qos 0: the zero value.
	set(path+".retain", func() { s.Retain = stateDrivers[s.Driver] })
	for q, pr := range s.Process {
		ppath := path + ".process." + q
		set(ppath+".scale", func() { pr.Scale = 1 })
		set(ppath+".round", func() { pr.Round = -1 })
		s.Process[q] = pr
	}
}
