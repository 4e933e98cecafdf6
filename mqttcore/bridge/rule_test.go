package bridge

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDirection(t *testing.T) {
	for _, d := range []Direction{Out, In, Both} {
		got, err := ParseDirection(d.String())
		if err != nil || got != d {
			t.Errorf("ParseDirection(%q) = %v, %v", d.String(), got, err)
		}
	}
	if _, err := ParseDirection("sideways"); err == nil || !strings.HasPrefix(err.Error(), "bridge: ") {
		t.Errorf("ParseDirection(sideways) error = %v", err)
	}
}

func TestRule_match(t *testing.T) {
	rules := []Rule{
		{Pattern: "sensors/#", Direction: Out, QoS: 1, RemotePrefix: "gw/pi/"},
		{Pattern: "#", Direction: Both, QoS: 1, LocalPrefix: "local/", RemotePrefix: "remote/"},
		{Pattern: "", Direction: Both, QoS: 0, LocalPrefix: "a/b", RemotePrefix: "c/d"},
		{Pattern: "+/temp", Direction: In, QoS: 2, RemotePrefix: "up/"},
		{Pattern: "cmd/#", Direction: In, QoS: 1, RemotePrefix: "gw/pi/"},
	}
	out := []struct{ local, remote string }{
		{"sensors/kitchen/temp", "gw/pi/sensors/kitchen/temp"},
		{"sensors", "gw/pi/sensors"}, // # matches the parent level
		{"local/x/y", "remote/x/y"},
		{"local/", "remote/"},
		{"local", ""}, // "local/#" matches "local", but it lacks the prefix
		{"a/b", "c/d"},
		{"a/b/c", ""},
		{"k/temp", ""},        // in only
		{"cmd/valve", ""},     // in only
		{"$SYS/broker/x", ""}, // not matched by a leading wildcard
		{"other", ""},
	}
	for _, tc := range out {
		_, remote, ok := matchOut(rules, tc.local)
		if ok != (tc.remote != "") || remote != tc.remote {
			t.Errorf("matchOut(%q) = %q, %v; want %q", tc.local, remote, ok, tc.remote)
		}
	}
	in := []struct{ remote, local string }{
		{"up/k/temp", "k/temp"},
		{"gw/pi/cmd/valve", "cmd/valve"},
		{"remote/x", "local/x"},
		{"c/d", "a/b"},
		{"gw/pi/sensors/x", ""}, // out only
		{"up/k/humidity", ""},
	}
	for _, tc := range in {
		_, local, ok := matchIn(rules, tc.remote)
		if ok != (tc.local != "") || local != tc.local {
			t.Errorf("matchIn(%q) = %q, %v; want %q", tc.remote, local, ok, tc.local)
		}
	}
	if r, _, _ := matchOut(rules, "local/sensors/x"); r.LocalPrefix != "local/" {
		t.Errorf("first matching rule should win: %+v", r)
	}
}

func TestRule_validate(t *testing.T) {
	cases := []struct {
		name string
		rule Rule
		want string // "" = valid
	}{
		{"ok", Rule{Pattern: "a/#", Direction: Out, QoS: 1}, ""},
		{"exact topic", Rule{Direction: In, LocalPrefix: "a", RemotePrefix: "b"}, ""},
		{"no direction", Rule{Pattern: "a"}, "direction"},
		{"bad direction", Rule{Pattern: "a", Direction: 8}, "direction"},
		{"qos 3", Rule{Pattern: "a", Direction: Out, QoS: 3}, "qos 3"},
		{"wildcard prefix", Rule{Pattern: "a", Direction: Out, LocalPrefix: "+/"}, "wildcards"},
		{"bad filter", Rule{Pattern: "a/#/b", Direction: Out}, "filter"},
		{"empty pattern one prefix", Rule{Direction: Out, RemotePrefix: "b"}, "empty pattern"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rule.validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestOptions_validate(t *testing.T) {
	valid := func() Options {
		return Options{
			Addresses: []string{"tcp://up:1883"},
			ClientID:  "pi",
			Rules:     []Rule{{Pattern: "s/#", Direction: Out, QoS: 1}, {Pattern: "c/#", Direction: In, QoS: 1}},
			Queue:     nopQueue{},
			Local:     nopLocal{},
		}
	}
	if _, err := New(valid()); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(o *Options)
		want   string
	}{
		{"no addresses", func(o *Options) { o.Addresses = nil }, "no addresses"},
		{"bad scheme", func(o *Options) { o.Addresses = []string{"http://x"} }, "unknown scheme"},
		{"no client id", func(o *Options) { o.ClientID = "" }, "client id"},
		{"no queue", func(o *Options) { o.Queue = nil }, "needs a queue"},
		{"no local", func(o *Options) { o.Local = nil }, "needs a local broker"},
		{"inflight", func(o *Options) { o.Inflight = 70000 }, "inflight"},
		{"delays", func(o *Options) { o.Reconnect = Reconnect{MinDelay: 2e9, MaxDelay: 1e9} }, "reconnect delays"},
		{"keepalive", func(o *Options) { o.KeepAlive = 65536 * time.Second }, "keepalive"},
		{"drain rate", func(o *Options) { o.DrainRate = -1 }, "drain rate"},
		{"monitor prefix", func(o *Options) { o.Monitor.TopicPrefix = "a/#" }, "monitor topic prefix"},
		{"bad rule", func(o *Options) { o.Rules[0].QoS = 5 }, "rule 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.mutate(&o)
			_, err := New(o)
			if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() error = %v, want ErrInvalidOptions mentioning %q", err, tc.want)
			}
		})
	}
	t.Run("every error at once", func(t *testing.T) {
		_, err := New(Options{Inflight: -1, DrainRate: -1})
		for _, want := range []string{"no addresses", "client id", "inflight", "drain rate"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v lacks %q", err, want)
			}
		}
	})
	t.Run("qos 0 out rule needs no queue", func(t *testing.T) {
		o := valid()
		o.Queue, o.Rules = nil, []Rule{{Pattern: "s/#", Direction: Out, QoS: 0}}
		if _, err := New(o); err != nil {
			t.Errorf("New: %v", err)
		}
	})
}

func TestParseAddress(t *testing.T) {
	cases := []struct {
		in, hostPort string
		tls          bool
		bad          bool
	}{
		{in: "tcp://up.example:1884", hostPort: "up.example:1884"},
		{in: "mqtt://up.example", hostPort: "up.example:1883"},
		{in: "up.example:1885", hostPort: "up.example:1885"},
		{in: "tls://up.example", hostPort: "up.example:8883", tls: true},
		{in: "ssl://up.example:9999", hostPort: "up.example:9999", tls: true},
		{in: "mqtts://10.0.0.1", hostPort: "10.0.0.1:8883", tls: true},
		{in: "tcp://[::1]:1883", hostPort: "[::1]:1883"},
		{in: "ws://up.example", bad: true},
		{in: "tcp://", bad: true},
		{in: "tcp://up/path", bad: true},
	}
	for _, tc := range cases {
		a, err := parseAddress(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parseAddress(%q) accepted", tc.in)
			}
			continue
		}
		if err != nil || a.hostPort != tc.hostPort || a.tls != tc.tls {
			t.Errorf("parseAddress(%q) = %+v, %v; want %s tls=%v", tc.in, a, err, tc.hostPort, tc.tls)
		}
	}
}
