package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLoad_examples loads every file in examples/ (the credentials the
// mutual-TLS example reads come from testdata/credentials), compares each
// with its golden JSON and its Summary, and spot-checks what the examples
// promise in their comments.
func TestLoad_examples(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", "testdata/credentials")
	t.Setenv("UPSTREAM_HOST", "mqtt.example.com")
	summaries := map[string]string{
		"demo.yaml":           "config ok: gateway demo, 2 listeners, no bridge, 2 sensors, status page on 127.0.0.1:8080",
		"pi.yaml":             "config ok: gateway pi-kitchen, 1 listener, no bridge, 5 sensors, status page on 0.0.0.0:8080",
		"pi-bridge-mtls.yaml": "config ok: gateway pi-barn, 1 listener, bridge to 2 addresses with 2 rules, 2 sensors",
		"bridge.yaml":         "config ok: gateway demo-bridge, 1 listener, bridge to 1 address with 2 rules, 1 sensor",
	}
	configs := map[string]*Config{}
	for _, path := range glob(t, "../examples/*.yaml") {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			c, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			configs[name] = c
			want, ok := summaries[name]
			if !ok {
				t.Fatalf("no expected summary for %s: add it to this test", name)
			}
			if got := c.Summary(); got != want {
				t.Errorf("Summary() = %q, want %q", got, want)
			}
			golden(t, filepath.Join("testdata/examples", strings.TrimSuffix(name, ".yaml")+".json"), marshal(t, c))
		})
	}
	if len(configs) != len(summaries) {
		t.Fatalf("loaded %d examples, want %d", len(configs), len(summaries))
	}

	demo := configs["demo.yaml"]
	if demo.Gateway.DataDir != "./data/demo" || demo.Bridge != nil {
		t.Errorf("demo: data_dir %q, bridge %v", demo.Gateway.DataDir, demo.Bridge)
	}
	if h := demo.HTTP; h == nil || h.Address != "127.0.0.1:8080" || h.Auth {
		t.Errorf("demo http = %+v, want 127.0.0.1:8080 without auth", h)
	}
	if ws := demo.Broker.Listeners[1]; ws.Address != "127.0.0.1:9001" || ws.WebSocket == nil || ws.WebSocket.Path != "/mqtt" {
		t.Errorf("demo websocket listener = %+v", ws)
	}
	if s := demo.Sensors[0]; s.Name != "demo" || s.Driver != "sim" || s.QoS != 1 || s.Interval.String() != "1s" {
		t.Errorf("demo sensor = %+v", s)
	}

	pi := configs["pi.yaml"]
	if addr := pi.Sensors[0].Options["address"].Value; addr != 0x76 {
		t.Errorf("pi bme280 address = %#v, want the int 0x76", addr)
	}
	if bus := pi.Sensors[0].Options["bus"].Value; bus != "1" {
		t.Errorf("pi bme280 bus = %#v, want \"1\"", bus)
	}
	button := pi.Sensors[2].Options
	if button["pin"].Value != "GPIO17" || button["pull"].Value != "up" || button["edge"].Value != "both" || button["debounce"].Value != "20ms" {
		t.Errorf("pi button options = %v", button)
	}
	if h := pi.HTTP; h == nil || !h.Auth || len(h.Users) != 1 {
		t.Errorf("pi http = %+v, want auth for one user", h)
	}
	if pi.Broker.AllowAnonymous || len(pi.Broker.Users) != 2 || len(pi.Broker.ACL) != 5 {
		t.Errorf("pi broker = %+v", pi.Broker)
	}

	mtls := configs["pi-bridge-mtls.yaml"]
	b := mtls.Bridge
	if b.Addresses[0] != "tls://mqtt.example.com:8883" || b.Addresses[1] != "tls://backup.mqtt.example.com:8883" {
		t.Errorf("mtls addresses = %q", b.Addresses)
	}
	if b.Password != "upstream-password" || b.TLS.CertFile != "testdata/credentials/gateway.crt" {
		t.Errorf("mtls secrets: password %q, cert %q", b.Password, b.TLS.CertFile)
	}
	if h := mtls.Broker.Users[0].PasswordHash; bcryptProblem(h) != "" {
		t.Errorf("mtls user hash from file %q: %s", h, bcryptProblem(h))
	}
}
