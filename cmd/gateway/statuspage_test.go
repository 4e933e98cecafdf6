package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"golang.org/x/crypto/bcrypt"

	"github.com/edgegw/edgegw/internal/statuspage"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// statusConfig is the demo config with the status page on a free port.
const statusConfig = demoConfig + `http:
  address: @HTTPADDR@
`

// httpGet fetches url with c (http.DefaultClient when nil) and returns
// the status code and body.
func httpGet(t testing.TB, c *http.Client, url string, setup ...func(*http.Request)) (int, []byte, http.Header) {
	t.Helper()
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(req)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return res.StatusCode, body, res.Header
}

// statusJSON fetches and decodes /status.json.
func statusJSON(t testing.TB, p *proc) statuspage.Snapshot {
	t.Helper()
	code, body, _ := httpGet(t, nil, "http://"+p.HTTPAddr+"/status.json")
	var s statuspage.Snapshot
	if code != http.StatusOK {
		t.Fatalf("GET /status.json = %d %s", code, body)
	}
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("status.json: %v\n%s", err, body)
	}
	return s
}

// statusReading returns a sensor's last reading of quantity q from s.
func statusReading(s statuspage.Snapshot, sensor, q string) (statuspage.Reading, bool) {
	for _, x := range s.Sensors {
		for _, r := range x.Readings {
			if x.Name == sensor && r.Quantity == q {
				return r, true
			}
		}
	}
	return statuspage.Reading{}, false
}

// TestGateway_StatusPage_JSON: /status.json of the demo gateway names it,
// lists both demo sensors in file order with their quantities and units,
// and the readings change; /healthz says ok.
func TestGateway_StatusPage_JSON(t *testing.T) {
	p := startGateway(t, statusConfig)
	var first statuspage.Snapshot
	mqtttest.WaitFor(t, func() bool {
		first = statusJSON(t, p)
		_, ok := statusReading(first, "power", "voltage")
		return ok && len(first.Sensors) == 2 && len(first.Sensors[0].Readings) == 2
	}, "every demo quantity in /status.json")
	if first.GatewayID != "demo" || first.Version != testVersion || first.Uplink != nil || first.Queue != nil {
		t.Errorf("status.json: id %q, version %q, uplink %v, queue %v; want demo, %s, no bridge", first.GatewayID, first.Version, first.Uplink, first.Queue, testVersion)
	}
	for i, want := range []string{"demo", "power"} {
		if s := first.Sensors[i]; s.Name != want || s.Driver != "sim" || s.State != statuspage.SensorOK || s.Topic != "sensors/"+want {
			t.Errorf("sensors[%d] = %+v, want %s, sim, ok", i, s, want)
		}
	}
	for _, s := range first.Sensors {
		for _, r := range s.Readings {
			if unit := demoUnits[s.Topic+"/"+r.Quantity]; r.Unit != unit || r.TS.IsZero() {
				t.Errorf("%s/%s: unit %q, ts %v; want %q, stamped", s.Name, r.Quantity, r.Unit, r.TS, unit)
			}
		}
	}
	before, _ := statusReading(first, "demo", "temperature")
	mqtttest.WaitFor(t, func() bool {
		r, _ := statusReading(statusJSON(t, p), "demo", "temperature")
		return r.TS.After(before.TS) && r.Value != before.Value
	}, "a newer demo temperature with another value than %v", before.Value)

	code, body, _ := httpGet(t, nil, "http://"+p.HTTPAddr+"/healthz")
	if code != http.StatusOK || !strings.Contains(string(body), `"status":"ok"`) {
		t.Errorf("GET /healthz = %d %s, want 200 ok", code, body)
	}
}

// TestGateway_StatusPage_Metrics: Prometheus's own parser reads /metrics
// of the real binary, with the demo sensors' readings and counters.
func TestGateway_StatusPage_Metrics(t *testing.T) {
	p := startGateway(t, statusConfig)
	mqtttest.WaitFor(t, func() bool {
		_, ok := statusReading(statusJSON(t, p), "power", "current")
		return ok
	}, "the power sensor's first reading")
	code, body, hdr := httpGet(t, nil, "http://"+p.HTTPAddr+"/metrics")
	if code != http.StatusOK || hdr.Get("Content-Type") != statuspage.MetricsContentType {
		t.Fatalf("GET /metrics = %d, Content-Type %q", code, hdr.Get("Content-Type"))
	}
	var parser expfmt.TextParser
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("expfmt: %v\n%s", err, body)
	}
	values := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			values[key] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	for _, key := range []string{
		"edgegw_build_info,version=" + testVersion + ",gateway_id=demo",
		"edgegw_health_ok",
		"edgegw_sensors_configured",
		"edgegw_sensor_up,sensor=demo",
		"edgegw_sensor_up,sensor=power",
		"edgegw_sensor_reads_total,sensor=demo",
		"edgegw_sensor_published_total,sensor=power",
		"edgegw_sensor_reading,sensor=demo,quantity=temperature,unit=°C",
		"edgegw_sensor_reading,sensor=power,quantity=voltage,unit=V",
		"edgegw_broker_publish_received_total",
	} {
		if v, ok := values[key]; !ok || v == 0 && !strings.HasPrefix(key, "edgegw_sensor_reading") {
			t.Errorf("%s = %v (present %v), want a non-zero sample", key, v, ok)
		}
	}
	if values["edgegw_sensors_configured"] != 2 {
		t.Errorf("edgegw_sensors_configured = %v, want 2", values["edgegw_sensors_configured"])
	}
}

// TestGateway_StatusPage_BasicAuthTLS: with http.auth and tls, HTTPS with
// the broker user's password is served, a wrong password and an unknown
// user are refused (401), only http.users may log in, and /healthz needs
// no credentials.
func TestGateway_StatusPage_BasicAuthTLS(t *testing.T) {
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	ca := mqtttest.NewCA(t, "status-ca")
	dir := t.TempDir()
	certFile, keyFile := ca.Issue(t, "localhost", true).WriteFiles(t, dir, "http")
	p := startGateway(t, baseConfig+`  users:
    - {username: admin, password_hash: "`+hash("right horse")+`"}
    - {username: app, password_hash: "`+hash("app pass")+`"}
http:
  address: @HTTPADDR@
  users: [admin]
  tls: {cert_file: `+certFile+`, key_file: `+keyFile+`}
`)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	defer c.CloseIdleConnections()
	base := "https://" + p.HTTPAddr
	for _, tc := range []struct {
		name, path, user, pass string
		want                   int
	}{
		{"right password", "/status.json", "admin", "right horse", http.StatusOK},
		{"wrong password", "/status.json", "admin", "wrong horse", http.StatusUnauthorized},
		{"unknown user", "/metrics", "eve", "right horse", http.StatusUnauthorized},
		{"broker user not in http.users", "/", "app", "app pass", http.StatusUnauthorized},
		{"no credentials", "/", "", "", http.StatusUnauthorized},
		{"healthz without credentials", "/healthz", "", "", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, hdr := httpGet(t, c, base+tc.path, func(r *http.Request) {
				if tc.user != "" {
					r.SetBasicAuth(tc.user, tc.pass)
				}
			})
			if code != tc.want {
				t.Fatalf("GET %s as %q = %d %s, want %d", tc.path, tc.user, code, body, tc.want)
			}
			if code == http.StatusUnauthorized && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without a Basic challenge")
			}
		})
	}
	if code, _, _ := httpGet(t, nil, "http://"+p.HTTPAddr+"/healthz"); code == http.StatusOK {
		t.Error("plain HTTP served on the TLS address")
	}
}

// TestGateway_StatusPage_Uplink: with a bridge to Mosquitto, the status
// page follows an outage: online with an empty queue; offline with the
// messages queued meanwhile and their age (in /metrics too); online again,
// drained, with the outage counted as in the upstream metrics topic.
func TestGateway_StatusPage_Uplink(t *testing.T) {
	up := mqtttest.StartMosquitto(t, "")
	px := mqtttest.NewProxy(t, up)
	p := startGateway(t, bridgeConfig(px.Addr(), 1)+"http:\n  address: @HTTPADDR@\n")
	var s statuspage.Snapshot
	detail := func() string { return fmt.Sprintf("uplink %+v, queue %+v", s.Uplink, s.Queue) }
	waitUplink := func(what string, cond func() bool) {
		t.Helper()
		waitFor(t, mqtttest.DefaultWait, what, func() bool {
			s = statusJSON(t, p)
			return s.Uplink != nil && s.Queue != nil && cond()
		}, detail)
	}
	waitUplink("uplink online", func() bool { return s.Uplink.State == "online" && s.Queue.Messages == 0 })

	px.SetMode(mqtttest.Reset)
	waitUplink("uplink offline", func() bool { return s.Uplink.State == "offline" })
	c := connectLocal(t, p, clientOpts{})
	publishAll(t, c, "sensors/x", "out", 1, 20, 32)
	waitUplink("20 queued messages with an age", func() bool {
		return s.Queue.Messages == 20 && s.Queue.OldestAgeSeconds > 0 && s.Uplink.Outage.CurrentSeconds > 0
	})
	_, body, _ := httpGet(t, nil, "http://"+p.HTTPAddr+"/metrics")
	for _, line := range []string{"edgegw_uplink_up 0\n", "edgegw_queue_messages 20\n", "edgegw_outages_total 1\n"} {
		if !strings.Contains(string(body), line) {
			t.Errorf("/metrics during the outage lacks %q", line)
		}
	}

	metrics := mqtttest.Subscribe(t, up, metricsTopic)
	px.SetMode(mqtttest.Pass)
	waitUplink("uplink back, queue drained", func() bool {
		return s.Uplink.State == "online" && s.Queue.Messages == 0 && s.Uplink.Outage.LastSeconds > 0
	})
	if s.Uplink.Reconnects != 1 || s.Uplink.Outage.Count != 1 {
		t.Errorf("after one outage: reconnects %d, outage count %d; want 1 and 1", s.Uplink.Reconnects, s.Uplink.Outage.Count)
	}
	mqtttest.WaitFor(t, func() bool { return metrics.Len() > 0 }, "a metrics message upstream")
	var doc struct {
		Reconnects uint64
		Outage     struct{ Count uint64 }
	}
	if err := json.Unmarshal(metrics.Messages()[metrics.Len()-1].Payload, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Reconnects != s.Uplink.Reconnects || doc.Outage.Count != s.Uplink.Outage.Count {
		t.Errorf("metrics topic: reconnects %d, outage count %d; status page %d, %d", doc.Reconnects, doc.Outage.Count, s.Uplink.Reconnects, s.Uplink.Outage.Count)
	}
}

// TestGateway_StatusPage_ReloadUsers: a SIGHUP that changes http.users
// applies to the next login, without a restart.
func TestGateway_StatusPage_ReloadUsers(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := func(user string) string {
		return baseConfig + `  users:
    - {username: admin, password_hash: "` + string(hash) + `"}
    - {username: app, password_hash: "` + string(hash) + `"}
http:
  address: @HTTPADDR@
  users: [` + user + `]
`
	}
	p := startGateway(t, cfg("admin"))
	login := func(user string) int {
		code, _, _ := httpGet(t, nil, "http://"+p.HTTPAddr+"/status.json", func(r *http.Request) { r.SetBasicAuth(user, "pw") })
		return code
	}
	if a, b := login("admin"), login("app"); a != http.StatusOK || b != http.StatusUnauthorized {
		t.Fatalf("http.users [admin]: admin %d, app %d; want 200, 401", a, b)
	}
	p.WriteConfig(cfg("app"))
	p.Signal(syscall.SIGHUP)
	p.WaitLog("config reloaded")
	if a, b := login("admin"), login("app"); a != http.StatusUnauthorized || b != http.StatusOK {
		t.Errorf("after reloading http.users [app]: admin %d, app %d; want 401, 200", a, b)
	}
	if strings.Contains(p.Log(), "section=http") {
		t.Errorf("a change of http.users asked for a restart:\n%s", p.LogTail(10))
	}
}

// TestCLI_Check_HTTPTLS: `gateway check` loads http.tls's certificate, as
// the broker listeners' ones: a file that is not a certificate is an error.
func TestCLI_Check_HTTPTLS(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "not-a-cert.pem")
	if err := os.WriteFile(bad, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "gateway.yaml")
	yaml := "gateway: {id: t, data_dir: " + dir + "}\nhttp:\n  address: 127.0.0.1:0\n  tls: {cert_file: " + bad + ", key_file: " + bad + "}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, dir, "check", "-config", cfg)
	if code != 1 || !strings.Contains(stderr, "http.tls: load certificate") {
		t.Errorf("gateway check with a bad http.tls certificate: exit %d, stderr %q; want 1 and http.tls: load certificate", code, stderr)
	}
}
