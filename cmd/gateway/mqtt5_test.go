package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestGateway_MQTT5_mosquittoClients: Mosquitto's own clients speaking
// MQTT 5 (-V 5) through the real binary: a retained message's user
// property and content type reach an MQTT 5 subscriber unchanged, at
// QoS 1, and a 3.1.1 subscriber gets the same message without them.
func TestGateway_MQTT5_mosquittoClients(t *testing.T) {
	sub, pub := mosquittoTool(t, "mosquitto_sub"), mosquittoTool(t, "mosquitto_pub")
	p := startGateway(t, baseConfig)
	host, port := splitAddr(t, p.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, pub, "-h", host, "-p", port, "-V", "5", "-q", "1", "-r", "-t", "v5/x", "-m", "hello",
		"-D", "publish", "user-property", "site", "barn", "-D", "publish", "content-type", "text/plain").CombinedOutput()
	if err != nil {
		t.Fatalf("mosquitto_pub -V 5: %v\n%s", err, out)
	}
	receive := func(version string) string {
		out, err := exec.CommandContext(ctx, sub, "-h", host, "-p", port, "-V", version, "-q", "1",
			"-t", "v5/#", "-C", "1", "-W", "30", "-F", "%t|%p|%C|%P|%q").CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_sub -V %s: %v\n%s", version, err, out)
		}
		return string(out)
	}
	out5, out3 := receive("5"), receive("mqttv311")
	if got, want := strings.TrimSpace(out5), "v5/x|hello|text/plain|site:barn|1"; got != want {
		t.Errorf("MQTT 5 subscriber printed %q, want %q", got, want)
	}
	if got, want := strings.TrimSpace(out3), "v5/x|hello|||1"; got != want {
		t.Errorf("3.1.1 subscriber printed %q, want %q", got, want)
	}
}

// mosquittoTool returns the path of one of Mosquitto's clients; it skips
// the test when missing (and fails it when CI is set).
func mosquittoTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (CI is set, so this is a failure): %v", name, err)
		}
		t.Skipf("%s is not installed (Debian package mosquitto-clients): %v", name, err)
	}
	return path
}
