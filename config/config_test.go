package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files (testdata/**/*.json, *.err) from the current output")

// setTestEnv sets the variables the testdata files use and makes sure the
// ones they expect to be unset are.
func setTestEnv(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		"EDGEGW_TEST_ID":       "gw-env",
		"EDGEGW_TEST_DIR":      "/srv/gw",
		"EDGEGW_TEST_PORT":     "1884",
		"EDGEGW_TEST_FALSE":    "false",
		"EDGEGW_TEST_SIZE":     "2MiB",
		"EDGEGW_TEST_HOST":     "upstream.example",
		"EDGEGW_TEST_DURATION": "45s",
		"EDGEGW_TEST_EMPTY":    "",
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"EDGEGW_TEST_UNSET_HOST", "EDGEGW_TEST_UNSET_USER"} {
		if _, ok := os.LookupEnv(k); ok {
			t.Fatalf("%s must not be set for these tests", k)
		}
	}
}

// TestLoad_Golden_valid loads every testdata/valid file and compares the
// resulting Config, as JSON, with its .json golden file.
func TestLoad_Golden_valid(t *testing.T) {
	setTestEnv(t)
	for _, path := range glob(t, "testdata/valid/*.yaml") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			golden(t, strings.TrimSuffix(path, ".yaml")+".json", marshal(t, c))
		})
	}
}

// TestLoad_Golden_invalid loads every testdata/invalid file and compares the
// error list with its .err golden file, one error per line. Every error must
// be an *Error with a line number.
func TestLoad_Golden_invalid(t *testing.T) {
	setTestEnv(t)
	for _, path := range glob(t, "testdata/invalid/*.yaml") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c, err := Load(path)
			if err == nil {
				t.Fatalf("Load succeeded, want errors; got %+v", c)
			}
			if c != nil {
				t.Errorf("Load returned a Config with its errors")
			}
			errs := Errors(err)
			if len(errs) != strings.Count(err.Error(), "\n")+1 {
				t.Errorf("%d *Error values for %d lines of error text", len(errs), strings.Count(err.Error(), "\n")+1)
			}
			for _, e := range errs {
				if e.Line == 0 || e.File != path {
					t.Errorf("error without position: %q", e)
				}
			}
			golden(t, strings.TrimSuffix(path, ".yaml")+".err", []byte(err.Error()+"\n"))
		})
	}
}

// golden compares got with the file's contents, or rewrites the file with
// -update.
func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./config -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./config -update rewrites it)\n--- got:\n%s\n--- want:\n%s", file, got, want)
	}
}

func marshal(t *testing.T, c *Config) []byte {
	t.Helper()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s (%v)", pattern, err)
	}
	return files
}

// TestParse_defaults checks every default against the documented value, on
// a file that sets only what is required.
func TestParse_defaults(t *testing.T) {
	c := mustParse(t, `
gateway: {id: pi-kitchen}
broker:
  listeners: [{address: "127.0.0.1:9001", websocket: {}}]
bridge:
  addresses: ["tcp://up"]
  topics: [{pattern: "a/#"}]
sensors:
  - {name: slow, driver: sim, process: {temperature: {}}}
  - {name: fast, driver: sim, interval: 2s}
`)
	checks := []struct {
		name      string
		got, want any
	}{
		{"gateway.data_dir", c.Gateway.DataDir, "/var/lib/gateway"},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
		{"broker.listeners[0].websocket.path", c.Broker.Listeners[0].WebSocket.Path, "/mqtt"},
		{"broker.allow_anonymous", c.Broker.AllowAnonymous, true},
		{"broker.limits.max_connections", c.Broker.Limits.MaxConnections, 256},
		{"broker.limits.max_packet_size", c.Broker.Limits.MaxPacketSize, Size(1 << 20)},
		{"broker.limits.max_inflight", c.Broker.Limits.MaxInflight, 32},
		{"broker.limits.max_queued_messages", c.Broker.Limits.MaxQueuedMessages, 1000},
		{"broker.limits.max_queued_bytes", int(c.Broker.Limits.MaxQueuedBytes), 16 << 20},
		{"broker.limits.max_topic_levels", c.Broker.Limits.MaxTopicLevels, 200},
		{"broker.limits.max_topic_length", c.Broker.Limits.MaxTopicLength, 8192},
		{"broker.limits.max_sessions", c.Broker.Limits.MaxSessions, 1000},
		{"broker.limits.session_expiry", c.Broker.Limits.SessionExpiry.String(), "168h"},
		{"broker.limits.max_retained_messages", c.Broker.Limits.MaxRetainedMessages, 100_000},
		{"broker.limits.max_retained_bytes", c.Broker.Limits.MaxRetainedBytes, Size(64 << 20)},
		{"broker.sys_interval", c.Broker.SysInterval.String(), "10s"},
		{"bridge.client_id", c.Bridge.ClientID, "pi-kitchen"},
		{"bridge.keepalive", c.Bridge.KeepAlive.String(), "30s"},
		{"bridge.clean_session", c.Bridge.CleanSession, false},
		{"bridge.inflight", c.Bridge.Inflight, 20},
		{"bridge.tls", c.Bridge.TLS == nil, true},
		{"bridge.reconnect.min_delay", c.Bridge.Reconnect.MinDelay.String(), "1s"},
		{"bridge.reconnect.max_delay", c.Bridge.Reconnect.MaxDelay.String(), "2m"},
		{"bridge.topics[0].direction", c.Bridge.Topics[0].Direction, "out"},
		{"bridge.topics[0].qos", c.Bridge.Topics[0].QoS, 1},
		{"bridge.queue.max_messages", c.Bridge.Queue.MaxMessages, 1_000_000},
		{"bridge.queue.max_bytes", c.Bridge.Queue.MaxBytes, Size(512 << 20)},
		{"bridge.queue.overflow", c.Bridge.Queue.Overflow, "drop_oldest"},
		{"bridge.drain_rate", c.Bridge.DrainRate, 0.0},
		{"monitor.topic_prefix", c.Monitor.TopicPrefix, "gateways/pi-kitchen"},
		{"monitor.metrics_interval", c.Monitor.MetricsInterval.String(), "30s"},
		{"homeassistant.discovery", c.HomeAssistant.Discovery, false},
		{"homeassistant.prefix", c.HomeAssistant.Prefix, "homeassistant"},
		{"sensors[0].interval", c.Sensors[0].Interval.String(), "10s"},
		{"sensors[0].timeout", c.Sensors[0].Timeout.String(), "5s"},
		{"sensors[1].timeout", c.Sensors[1].Timeout.String(), "2s"},
		{"sensors[0].topic", c.Sensors[0].Topic, "sensors/slow"},
		{"sensors[0].qos", c.Sensors[0].QoS, 0},
		{"sensors[0].retain", c.Sensors[0].Retain, false},
		{"sensors[0].process.temperature", c.Sensors[0].Process["temperature"], Process{Scale: 1, Round: -1}},
		{"sensors[0].line", c.Sensors[0].Line, 9},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	if c.Bridge.Addresses[0] != "tcp://up:1883" {
		t.Errorf("bridge.addresses[0] = %q, want tcp://up:1883", c.Bridge.Addresses[0])
	}

	c = mustParse(t, "gateway: {id: x}\n")
	if len(c.Broker.Listeners) != 1 || c.Broker.Listeners[0] != (Listener{Address: "127.0.0.1:1883"}) {
		t.Errorf("default listeners = %+v, want one plain listener on 127.0.0.1:1883", c.Broker.Listeners)
	}
	if c.Bridge != nil {
		t.Errorf("no bridge section gave Bridge %+v, want nil", c.Bridge)
	}
}

// TestParse_explicitZeroIsKept checks that a key set to its zero value is
// not overwritten by a non-zero default.
func TestParse_explicitZeroIsKept(t *testing.T) {
	c := mustParse(t, `
gateway: {id: x}
broker: {allow_anonymous: false, listeners: []}
bridge: {addresses: ["tcp://up"], topics: [{pattern: "#", qos: 0}], keepalive: 0s}
sensors: [{name: s, driver: sim, process: {t: {round: 0, scale: -1}}}]
`)
	if c.Broker.AllowAnonymous || len(c.Broker.Listeners) != 0 || c.Bridge.Topics[0].QoS != 0 || c.Bridge.KeepAlive != 0 {
		t.Errorf("explicit zero values were replaced by defaults: %+v %+v", c.Broker, c.Bridge)
	}
	if p := c.Sensors[0].Process["t"]; p.Round != 0 || p.Scale != -1 {
		t.Errorf("process = %+v, want round 0 scale -1", p)
	}
}

// TestErrors_positions checks the *Error fields, errors.As, and errors.Is on
// the cause of a missing file.
func TestErrors_positions(t *testing.T) {
	_, err := Parse("gw.yaml", []byte(`gateway: {id: gw}
broker:
  listeners:
    - address: 127.0.0.1:1883
    - address: ":8883"
      tls: {cert_file: testdata/secrets/missing.crt, key_file: testdata/secrets/server.key}
sensors:
  - {name: a, driver: sim, qos: 3}
`))
	errs := Errors(err)
	want := []Error{
		{File: "gw.yaml", Line: 6, Path: "broker.listeners[1].tls.cert_file", Msg: "file not found: testdata/secrets/missing.crt"},
		{File: "gw.yaml", Line: 8, Path: "sensors[0].qos", Msg: "3 is not a QoS: want 0, 1 or 2"},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(want), err)
	}
	for i, w := range want {
		g := *errs[i]
		g.Err = nil
		if g != w {
			t.Errorf("error %d = %+v, want %+v", i, g, w)
		}
	}
	if got := errs[0].Error(); got != "gw.yaml:6: broker.listeners[1].tls.cert_file: file not found: testdata/secrets/missing.crt" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for a missing cert file")
	}
	var e *Error
	if !errors.As(err, &e) || e.Line != 6 {
		t.Errorf("errors.As found %+v, want the line-6 error first", e)
	}
}

func TestLoad_fileErrors(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("Load(missing) = %v, want a config: error wrapping fs.ErrNotExist", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), MaxFileSize/10+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Load(big) = %v, want ErrTooLarge", err)
	}
}

// TestParse_secretFiles checks the contents read from *_file keys: trailing
// CR LF trimmed, dollars untouched.
func TestParse_secretFiles(t *testing.T) {
	c := mustParse(t, `
gateway: {id: x}
broker:
  users: [{username: u, password_hash_file: testdata/secrets/user.bcrypt}]
bridge:
  addresses: ["tcp://up"]
  username: gw
  password_file: testdata/secrets/bridge-password
`)
	if got, want := c.Bridge.Password, "p@ss$word"; got != want {
		t.Errorf("bridge password = %q, want %q", got, want)
	}
	if got, want := c.Broker.Users[0].PasswordHash, "$2y$12$PIi2MYabmMVjSxW6H8.b5es1nHXmoPfT6e0fOvA8bDZY9p/Bwn4Rm"; got != want {
		t.Errorf("password hash = %q, want %q", got, want)
	}
}

// TestParse_envTyping checks that an unquoted ${…} is typed after expansion
// and a quoted one stays a string, in driver options.
func TestParse_envTyping(t *testing.T) {
	t.Setenv("EDGEGW_TEST_ADDR", "0x77")
	c := mustParse(t, `
gateway: {id: x}
sensors:
  - name: s
    driver: bme280
    address: ${EDGEGW_TEST_ADDR}
    quoted: "${EDGEGW_TEST_ADDR}"
`)
	if got := c.Sensors[0].Options["address"]; got.Value != 0x77 || got.Line != 6 || got.Lines != nil {
		t.Errorf("address = %#v, want int 0x77 on line 6", got)
	}
	if got := c.Sensors[0].Options["quoted"].Value; got != "0x77" {
		t.Errorf("quoted = %#v, want the string 0x77", got)
	}
}

// TestParse_optionLines: a driver option holding a list of mappings keeps
// the line of every element and key, for the driver's errors.
func TestParse_optionLines(t *testing.T) {
	c := mustParse(t, `
gateway: {id: x}
sensors:
  - name: s
    driver: modbus
    points:
      - {quantity: a, address: 0}
      - quantity: b
        type: float32
    rename: {x: y}
`)
	got := c.Sensors[0].Options["points"].Lines
	want := map[string]int{"[0]": 7, "[0].quantity": 7, "[0].address": 7, "[1]": 8, "[1].quantity": 8, "[1].type": 9}
	if !maps.Equal(got, want) {
		t.Errorf("points lines = %v, want %v", got, want)
	}
	if got := c.Sensors[0].Options["rename"].Lines; !maps.Equal(got, map[string]int{"x": 10}) {
		t.Errorf("rename lines = %v, want x on line 10", got)
	}
}

func TestSummary(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"gateway: {id: a}\n", "config ok: gateway a, 1 listener, no bridge, 0 sensors"},
		{"gateway: {id: b}\nbroker: {listeners: []}\nsensors: [{name: s, driver: sim}]\n",
			"config ok: gateway b, 0 listeners, no bridge, 1 sensor"},
		{"gateway: {id: c}\nbridge: {addresses: [\"tcp://x\"], topics: [{pattern: a}]}\n",
			"config ok: gateway c, 1 listener, bridge to 1 address with 1 rule, 0 sensors"},
		{"gateway: {id: d}\nbridge: {addresses: [\"tcp://x\", \"tcp://y\"]}\n",
			"config ok: gateway d, 1 listener, bridge to 2 addresses with 0 rules, 0 sensors"},
	} {
		if got := mustParse(t, tt.yaml).Summary(); got != tt.want {
			t.Errorf("Summary() = %q, want %q", got, tt.want)
		}
	}
}

// FuzzParse checks that no input makes Parse panic, and that it returns
// either a Config or *Error values with a file name.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/invalid", "../examples"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c, err)
		}
		if err != nil && len(Errors(err)) == 0 {
			t.Fatalf("error %v holds no *Error", err)
		}
	})
}

func mustParse(t *testing.T, yaml string) *Config {
	t.Helper()
	c, err := Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestRedactAddress(t *testing.T) {
	for in, want := range map[string]string{
		"tcp://user:secret@host:1883": "tcp://user:xxxxx@host:1883",
		"tcp://user@host:1883":        "tcp://user@host:1883",
		"tls://u:p%zz@host:8883/x":    "tls://u:xxxxx@host:8883/x", // does not parse as a URL
		"host:1883":                   "host:1883",
		"tcp://host:1883/a@b":         "tcp://host:1883/a@b",
		"mqtts://a:b:c@d@host:8883":   "mqtts://a:xxxxx@host:8883",
	} {
		if got := redactAddress(in); got != want {
			t.Errorf("redactAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

// A file aliasing one list 100,000 times is refused at once with one error,
// not expanded (seconds of CPU) into an error per copy.
func TestParse_aliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("gateway: {id: x, data_dir: /tmp}\nx: &l [{name: a, driver: nosuch}]\nsensors: [")
	for i := range 100_000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*l")
	}
	b.WriteString("]\n")
	start := time.Now()
	_, err := Parse("bomb.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "YAML aliases") {
		t.Fatalf("err = %v, want the alias limit", err)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 1 {
		t.Errorf("%d error lines, want 1", n)
	}
	t.Logf("refused in %v", time.Since(start))
}

// Many errors are reported up to maxErrors, then counted.
func TestParse_errorsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("gateway: {id: x, data_dir: /tmp}\nsensors:\n")
	for i := range 150 {
		fmt.Fprintf(&b, "  - {name: s%d, driver: sim, qos: 9}\n", i)
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || !strings.Contains(lines[maxErrors], "50 more errors") {
		t.Fatalf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
}
