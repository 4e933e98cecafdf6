package statuspage_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/edgegw/edgegw/internal/statuspage"
)

// parseMetrics parses text with Prometheus's own parser and checks what
// the parser lets through: every family has help and a type, names are
// classic (legacy) names, counters end in _total.
func parseMetrics(t *testing.T, text []byte) map[string]*dto.MetricFamily {
	t.Helper()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("expfmt: %v\n%s", err, text)
	}
	legacy := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	for name, f := range fams {
		switch {
		case !legacy.MatchString(name):
			t.Errorf("%s: not a classic metric name", name)
		case f.GetHelp() == "":
			t.Errorf("%s: no # HELP", name)
		case f.GetType() == dto.MetricType_UNTYPED:
			t.Errorf("%s: no # TYPE", name)
		case f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_total"):
			t.Errorf("%s: a counter whose name does not end in _total", name)
		case f.GetType() != dto.MetricType_COUNTER && strings.HasSuffix(name, "_total"):
			t.Errorf("%s: ends in _total but is a %v", name, f.GetType())
		}
	}
	return fams
}

// value returns the value of name's sample with the given labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no family %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if got[labels[i]] != labels[i+1] {
				continue next
			}
		}
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s: no sample with labels %q", name, labels)
	return 0
}

func TestAppendMetrics_parsedByPrometheus(t *testing.T) {
	fams := parseMetrics(t, statuspage.AppendMetrics(nil, testSnapshot()))
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"edgegw_build_info", []string{"version", "v1.2.3 (abc)", "gateway_id", "pi-kitchen"}, 1},
		{"edgegw_uptime_seconds", nil, 3600.5},
		{"edgegw_health_ok", nil, 1},
		{"edgegw_local_clients", nil, 3},
		{"edgegw_broker_publish_received_total", nil, 500},
		{"edgegw_store_fsyncs_total", nil, 20},
		{"edgegw_resident_memory_bytes", nil, 12 << 20},
		{"edgegw_uplink_up", nil, 1},
		{"edgegw_uplink_reconnects_total", nil, 2},
		{"edgegw_uplink_forwarded_messages_total", nil, 1000},
		{"edgegw_dropped_messages_total", []string{"reason", "overflow_oldest"}, 4},
		{"edgegw_dropped_messages_total", []string{"reason", "expired"}, 0},
		{"edgegw_dropped_messages_total", []string{"reason", "offline"}, 9},
		{"edgegw_uplink_server_disconnects_total", []string{"reason", "server_shutting_down"}, 2},
		{"edgegw_queue_messages", nil, 10},
		{"edgegw_queue_oldest_age_seconds", nil, 1.5},
		{"edgegw_outages_total", nil, 2},
		{"edgegw_outage_last_seconds", nil, 61.5},
		{"edgegw_sensors_configured", nil, 2},
		{"edgegw_sensors_unavailable", nil, 1},
		{"edgegw_sensor_up", []string{"sensor", "kitchen"}, 1},
		{"edgegw_sensor_up", []string{"sensor", "cellar"}, 0},
		{"edgegw_sensor_errors_total", []string{"sensor", "kitchen"}, 1},
		{"edgegw_sensor_commands_total", []string{"sensor", "kitchen"}, 5},
		{"edgegw_sensor_command_errors_total", []string{"sensor", "kitchen"}, 2},
		{"edgegw_sensor_reading", []string{"sensor", "kitchen", "quantity", "temperature", "unit", "°C"}, 21.53},
	} {
		if got := value(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%q = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// Without a bridge the uplink and queue families are absent, and the
// output still parses.
func TestAppendMetrics_noBridge(t *testing.T) {
	s := testSnapshot()
	s.Uplink, s.Queue, s.Sensors = nil, nil, nil
	fams := parseMetrics(t, statuspage.AppendMetrics(nil, s))
	for name := range fams {
		if strings.HasPrefix(name, "edgegw_uplink_") || strings.HasPrefix(name, "edgegw_queue_") {
			t.Errorf("%s reported without a bridge", name)
		}
	}
	if got := value(t, fams, "edgegw_sensors_configured"); got != 0 {
		t.Errorf("edgegw_sensors_configured = %v, want 0", got)
	}
}

// Label values with quotes, backslashes and newlines are escaped.
func TestAppendMetrics_escapesLabels(t *testing.T) {
	s := testSnapshot()
	s.Version = "v1 \"quoted\" \\ back\nslash"
	fams := parseMetrics(t, statuspage.AppendMetrics(nil, s))
	if got := value(t, fams, "edgegw_build_info", "version", s.Version); got != 1 {
		t.Errorf("build_info with an escaped version = %v", got)
	}
}
