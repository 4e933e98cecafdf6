package broker

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// mosquittoTool returns the path of a Mosquitto client binary. Without it
// the test is skipped, unless CI is set: then it fails.
func mosquittoTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found and CI is set: install the mosquitto-clients package", name)
		}
		t.Skipf("SKIPPED: %s not found (install mosquitto-clients; with CI set this fails)", name)
	}
	return path
}

// mosquittoCmd starts a Mosquitto client against addr.
func mosquittoCmd(ctx context.Context, t *testing.T, tool, addr string, args ...string) *exec.Cmd {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.CommandContext(ctx, mosquittoTool(t, tool), append([]string{"-h", host, "-p", port, "-V", "mqttv311"}, args...)...)
	return cmd
}

// mosquittoPub runs mosquitto_pub to completion.
func mosquittoPub(t *testing.T, addr string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if out, err := mosquittoCmd(ctx, t, "mosquitto_pub", addr, args...).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub %q: %v\n%s", args, err, out)
	}
}

func TestBroker_mosquittoClients(t *testing.T) {
	mosquittoTool(t, "mosquitto_pub")
	mosquittoTool(t, "mosquitto_sub")
	b, addr := startBroker(t, testOptions(t))

	mosquittoPub(t, addr, "-t", "mq/retained", "-m", "from before", "-q", "1", "-r")

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var out strings.Builder
	sub := mosquittoCmd(ctx, t, "mosquitto_sub", addr, "-t", "mq/#", "-q", "2", "-v", "-C", "4", "-i", uniqueID(t, "sub"))
	sub.Stdout, sub.Stderr = &out, &out
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "mosquitto_sub to subscribe", func() bool { return b.Stats().Subscriptions == 1 })
	mosquittoPub(t, addr, "-t", "mq/q0", "-m", "zero", "-q", "0")
	mosquittoPub(t, addr, "-t", "mq/q1", "-m", "one", "-q", "1")
	mosquittoPub(t, addr, "-t", "mq/q2", "-m", "two", "-q", "2")
	if err := sub.Wait(); err != nil {
		t.Fatalf("mosquitto_sub: %v\n%s", err, out.String())
	}
	want := "mq/retained from before\nmq/q0 zero\nmq/q1 one\nmq/q2 two\n"
	if out.String() != want {
		t.Errorf("mosquitto_sub printed %q, want %q", out.String(), want)
	}

	// A Paho subscriber sees mosquitto_pub's messages, and mosquitto_sub
	// sees Paho's.
	in := subscribe(t, paho(t, addr, uniqueID(t, "paho"), true), "mix/#", 2)
	mosquittoPub(t, addr, "-t", "mix/a", "-m", "to paho", "-q", "2")
	in.expect(t, "mix/a", "to paho")
}

// A persistent mosquitto_sub session (-c) gets what was queued while it was
// away.
func TestBroker_mosquittoClients_persistent(t *testing.T) {
	mosquittoTool(t, "mosquitto_sub")
	b, addr := startBroker(t, testOptions(t))
	id := uniqueID(t, "sub")
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		out, err := mosquittoCmd(ctx, t, "mosquitto_sub", addr, append([]string{"-c", "-i", id, "-q", "1", "-t", "pers/#"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_sub: %v\n%s", err, out)
		}
		return string(out)
	}
	run("-W", "1", "-C", "1", "-E") // -E: exit once subscribed
	waitFor(t, "mosquitto_sub to leave", func() bool { return b.Stats().ClientsConnected == 0 })
	pub := paho(t, addr, uniqueID(t, "pub"), true)
	publish(t, pub, "pers/1", 1, false, "queued one")
	publish(t, pub, "pers/2", 1, false, "queued two")
	if got := run("-C", "2"); got != "queued one\nqueued two\n" {
		t.Errorf("persistent mosquitto_sub got %q", got)
	}
}
