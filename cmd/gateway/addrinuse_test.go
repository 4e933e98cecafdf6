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
