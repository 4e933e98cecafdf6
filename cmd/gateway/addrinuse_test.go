package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// TestRun_PortInUse_NamesMosquitto: when Mosquitto already listens on the
// configured port (Debian's service on 1883), `gateway run` fails with an
// error naming the process and the two ways out.
func TestRun_PortInUse_NamesMosquitto(t *testing.T) {
	addr := mqtttest.StartMosquitto(t, "")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gateway.yaml")
	yaml := "gateway: {id: e2e, data_dir: " + filepath.Join(dir, "data") + "}\nbroker:\n  listeners:\n    - address: " + addr + "\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"run", "-config", cfg}, &stdout, &stderr)
	if err == nil {
		t.Fatal("run succeeded on a port Mosquitto holds")
	}
	msg := err.Error()
	for _, want := range []string{"address already in use", "held by mosquitto (pid ", "sudo systemctl disable --now mosquitto", "another port"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "broker: broker:") {
		t.Errorf("error %q repeats its prefix", msg)
	}
}

// TestPortHolder_self: the holder of a port this process listens on is
// this process.
func TestPortHolder_self(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := portHolder(ln.Addr().(*net.TCPAddr).Port)
	if want := "(pid " + strconv.Itoa(os.Getpid()) + ")"; !strings.HasSuffix(got, want) {
		t.Errorf("portHolder = %q, want … %s", got, want)
	}
}

// TestListenHint: who holds the port and what to do, for each case of what
// /proc tells; Debian's mosquitto service is named whenever it may be the
// holder, and another port is always offered.
func TestListenHint(t *testing.T) {
	tests := []struct {
		name, holder, mosquitto string
		want                    []string
	}{
		{"mosquitto seen", "mosquitto (pid 812)", "mosquitto (pid 812)", []string{"held by mosquitto (pid 812)", "systemctl disable --now mosquitto", "127.0.0.1:1884"}},
		{"another process seen", "nginx (pid 9)", "", []string{"held by nginx (pid 9): stop it", "127.0.0.1:1884"}},
		{"another user's process, mosquitto runs", "", "mosquitto (pid 812)", []string{"probably mosquitto (pid 812)", "systemctl disable --now mosquitto", "127.0.0.1:1884"}},
		{"nothing known", "", "", []string{"sudo ss -ltnp 'sport = :1883'", "systemctl disable --now mosquitto", "127.0.0.1:1884"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listenHint(1883, tt.holder, tt.mosquitto)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("listenHint = %q, lacks %q", got, w)
				}
			}
		})
	}
}
