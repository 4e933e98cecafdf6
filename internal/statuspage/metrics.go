package statuspage

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// AppendMetrics appends s in the Prometheus text exposition format (0.0.4)
// to dst: one family per figure of the metrics topic, each with # HELP and
// # TYPE, counters named _total, drops labelled by reason and sensor
// figures by sensor. Families without a bridge (edgegw_uplink_*,
// edgegw_queue_*, …) are left out rather than reported as 0.
func AppendMetrics(dst []byte, s Snapshot) []byte {
	w := &promWriter{b: dst}
	w.one("edgegw_build_info", gauge, "Build and gateway: always 1, with labels.", 1, "version", s.Version, "gateway_id", s.GatewayID)
	w.one("edgegw_uptime_seconds", gauge, "Seconds since the gateway started.", s.UptimeSeconds)
	w.one("edgegw_health_ok", gauge, "1 when the last health check passed and is recent, else 0.", b2f(s.Health.OK))
	w.one("edgegw_local_clients", gauge, "MQTT clients connected to the local broker.", float64(s.LocalClients))
	w.one("edgegw_broker_publish_received_total", counter, "PUBLISH packets the local broker received (clients, sensors, bridge).", float64(s.Broker.PublishReceived))
	w.one("edgegw_broker_publish_sent_total", counter, "PUBLISH packets the local broker sent to clients.", float64(s.Broker.PublishSent))
	w.one("edgegw_broker_retained_messages", gauge, "Retained messages on the local broker.", float64(s.Broker.Retained))
	w.one("edgegw_broker_sessions", gauge, "Sessions on the local broker, connected or not.", float64(s.Broker.Sessions))
	w.one("edgegw_store_file_size_bytes", gauge, "Size of the bbolt store file.", float64(s.Store.FileSize))
	w.one("edgegw_store_commits_total", counter, "Write transactions committed to the store.", float64(s.Store.Commits))
	w.one("edgegw_store_fsyncs_total", counter, "fdatasync calls on the store.", float64(s.Store.Fsyncs))
	w.one("edgegw_store_written_bytes_total", counter, "Bytes written to the store (estimate).", float64(s.Store.BytesWritten))
	w.one("edgegw_store_commit_errors_total", counter, "Store write transactions that failed.", float64(s.Store.CommitErrors))
	if s.RSSBytes > 0 {
		w.one("edgegw_resident_memory_bytes", gauge, "Resident set size of the gateway process.", float64(s.RSSBytes))
	}
	if s.DiskFreeBytes > 0 {
		w.one("edgegw_data_dir_free_bytes", gauge, "Bytes free for the gateway on data_dir's file system.", float64(s.DiskFreeBytes))
	}
	if s.Uplink != nil && s.Queue != nil {
		appendUplink(w, s.Uplink, s.Queue)
	}
	appendSensors(w, s.Sensors)
	return w.b
}

//

func appendUplink(w *promWriter, u *Uplink, q *Queue) {
	w.one("edgegw_uplink_up", gauge, "1 while the bridge is connected to the upstream broker.", b2f(u.State == "online"))
	w.one("edgegw_uplink_connected_seconds", gauge, "How long the current upstream connection has been up (0 when down).", u.ConnectedSeconds)
	w.one("edgegw_uplink_connects_total", counter, "Successful connections to the upstream.", float64(u.Connects))
	w.one("edgegw_uplink_reconnects_total", counter, "Upstream connections after the first.", float64(u.Reconnects))
	w.one("edgegw_uplink_connect_failures_total", counter, "Rounds over every upstream address that failed.", float64(u.ConnectFailures))
	w.one("edgegw_uplink_forwarded_messages_total", counter, "Messages the upstream acknowledged (QoS 0: written).", float64(u.Forwarded))
	w.one("edgegw_uplink_received_messages_total", counter, "Messages from the upstream published locally.", float64(u.Received))
	w.one("edgegw_uplink_inflight_messages", gauge, "Messages sent upstream and not yet acknowledged.", float64(u.Inflight))
	reasons := slices.Sorted(maps.Keys(u.Dropped))
	drops := make([]sample, len(reasons))
	for i, r := range reasons {
		drops[i] = sample{labels: []string{"reason", r}, value: float64(u.Dropped[r])}
	}
	w.family("edgegw_dropped_messages_total", counter, "Messages bound upstream or from it that were lost, by reason.", drops...)
	if len(u.ServerDisconnects) > 0 {
		var ds []sample
		for _, r := range slices.Sorted(maps.Keys(u.ServerDisconnects)) {
			ds = append(ds, sample{labels: []string{"reason", r}, value: float64(u.ServerDisconnects[r])})
		}
		w.family("edgegw_uplink_server_disconnects_total", counter, "MQTT 5 DISCONNECTs from the upstream, by reason.", ds...)
	}
	w.one("edgegw_queue_messages", gauge, "Messages in the durable upstream queue.", float64(q.Messages))
	w.one("edgegw_queue_bytes", gauge, "Topic and payload bytes in the durable upstream queue.", float64(q.Bytes))
	w.one("edgegw_queue_oldest_age_seconds", gauge, "Age of the oldest queued message (0 when empty).", q.OldestAgeSeconds)
	w.one("edgegw_queue_quarantined_messages", gauge, "Queue entries moved to quarantine.", float64(q.Quarantined))
	o := u.Outage
	w.one("edgegw_outages_total", counter, "Uplink outages since start.", float64(o.Count))
	w.one("edgegw_outage_current_seconds", gauge, "Age of the current outage (0 when connected).", o.CurrentSeconds)
	w.one("edgegw_outage_draining", gauge, "1 from a reconnection until its backlog is sent.", b2f(o.Draining))
	w.one("edgegw_outage_last_seconds", gauge, "Length of the last outage that ended.", o.LastSeconds)
	w.one("edgegw_outage_last_drain_seconds", gauge, "How long the last outage's backlog took to drain.", o.LastDrainSeconds)
	w.one("edgegw_outage_peak_backlog_messages", gauge, "Deepest queue during the last (or current) outage and its drain.", float64(o.PeakBacklog))
}

func appendSensors(w *promWriter, ss []Sensor) {
	unavailable := 0
	var up, reads, errs, published, cmds, cmdErrs, values []sample
	for _, s := range ss {
		l := []string{"sensor", s.Name}
		if s.State == SensorUnavailable {
			unavailable++
		}
		up = append(up, sample{l, b2f(s.State == SensorOK)})
		reads = append(reads, sample{l, float64(s.Reads)})
		errs = append(errs, sample{l, float64(s.Errors)})
		published = append(published, sample{l, float64(s.Published)})
		cmds = append(cmds, sample{l, float64(s.Commands)})
		cmdErrs = append(cmdErrs, sample{l, float64(s.CommandErrors)})
		for _, r := range s.Readings {
			values = append(values, sample{[]string{"sensor", s.Name, "quantity", r.Quantity, "unit", r.Unit}, r.Value})
		}
	}
	w.one("edgegw_sensors_configured", gauge, "Sensors in the configuration.", float64(len(ss)))
	w.one("edgegw_sensors_unavailable", gauge, "Sensors whose device cannot be opened.", float64(unavailable))
	w.family("edgegw_sensor_up", gauge, "1 when the sensor's last poll succeeded.", up...)
	w.family("edgegw_sensor_reads_total", counter, "Sensor polls that returned.", reads...)
	w.family("edgegw_sensor_errors_total", counter, "Failed sensor polls and rejected readings.", errs...)
	w.family("edgegw_sensor_published_total", counter, "Readings published on <topic>/<quantity>.", published...)
	w.family("edgegw_sensor_commands_total", counter, "Commands received by a sensor (set, calibrate).", cmds...)
	w.family("edgegw_sensor_command_errors_total", counter, "Sensor commands that failed, were refused or were dropped.", cmdErrs...)
	w.family("edgegw_sensor_reading", gauge, "The last published reading of each quantity, in its unit.", values...)
}

// Metric types.
const (
	counter = "counter"
	gauge   = "gauge"
)

// sample is one line of a family: label pairs (name, value, …) and a value.
type sample struct {
	labels []string
	value  float64
}

// promWriter appends families in the text exposition format.
type promWriter struct{ b []byte }

// one appends a family of one sample.
func (w *promWriter) one(name, typ, help string, v float64, labels ...string) {
	w.family(name, typ, help, sample{labels, v})
}

// family appends # HELP, # TYPE and the samples. A family without samples
// is left out.
func (w *promWriter) family(name, typ, help string, samples ...sample) {
	if len(samples) == 0 {
		return
	}
	w.b = append(w.b, "# HELP "+name+" "...)
	w.b = append(w.b, helpEscaper.Replace(help)...)
	w.b = append(w.b, "\n# TYPE "+name+" "+typ+"\n"...)
	for _, s := range samples {
		w.b = append(w.b, name...)
		for i := 0; i+1 < len(s.labels); i += 2 {
			sep := byte(',')
			if i == 0 {
				sep = '{'
			}
			w.b = append(w.b, sep)
			w.b = append(w.b, s.labels[i]+`="`...)
			w.b = append(w.b, labelEscaper.Replace(s.labels[i+1])...)
			w.b = append(w.b, '"')
		}
		if len(s.labels) > 1 {
			w.b = append(w.b, '}')
		}
		w.b = append(w.b, ' ')
		w.b = appendValue(w.b, s.value)
		w.b = append(w.b, '\n')
	}
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// appendValue formats v as the format wants: Go floats, and NaN, +Inf,
// -Inf spelt so.
func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
