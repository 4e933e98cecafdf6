package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRemote_operator_mosquittoClients: an operator with nothing but
// Mosquitto's own clients on the upstream broker: mosquitto_sub listens on
// the result topics, mosquitto_pub sends <prefix>/cmd/status and gets the
// metrics on cmd/status/result, then pushes a configuration (the envelope
// in a file, -f) on config/set and reads accepted, then applied, on
// config/result; the gateway's file is the new one.
func TestRemote_operator_mosquittoClients(t *testing.T) {
	pub, subTool := mosquittoTool(t, "mosquitto_pub"), mosquittoTool(t, "mosquitto_sub")
	r := newRemoteRig(t, remoteOn)
	host, port := splitAddr(t, r.up)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	send := func(topic string, args ...string) {
		t.Helper()
		args = append([]string{"-h", host, "-p", port, "-V", "mqttv311", "-q", "1", "-t", topic}, args...)
		if out, err := exec.CommandContext(ctx, pub, args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_pub %s: %v\n%s", topic, err, out)
		}
	}
	sub := startMosquittoSub(t, ctx, subTool, host, port, rtCmd+"status/result", rtResult, probeTopic)
	waitFor(t, remoteWait, "mosquitto_sub subscribed", func() bool { // a probe it prints proves the SUBACK
		send(probeTopic, "-m", "probe")
		time.Sleep(100 * time.Millisecond)
		return sub.printed(probeTopic)
	}, nil)
	send(rtCmd+"status", "-m", `{"id":"op-status"}`)
	status := sub.wait(t, rtCmd+"status/result", "op-status", "")
	if res, _ := status["result"].(map[string]any); status["ok"] != true || res["uptime_seconds"] == nil {
		t.Errorf("cmd/status/result: %v", status)
	}

	next := remoteConfig(r.up, remoteOn, "700ms")
	envelope, err := json.Marshal(map[string]any{"id": "op-config", "config": r.render(next)})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "set.json")
	if err := os.WriteFile(file, envelope, 0o600); err != nil {
		t.Fatal(err)
	}
	send(rtSet, "-f", file)
	sub.wait(t, rtResult, "op-config", "accepted")
	applied := sub.wait(t, rtResult, "op-config", "applied")
	if applied["ts"] == nil {
		t.Errorf("config/result: %v", applied)
	}
	r.fileIs(next, "the configuration mosquitto_pub sent")
}

// probeTopic is a topic of the operator's own, which proves that its
// mosquitto_sub is subscribed.
const probeTopic = "operator/probe"

// mosquittoSubProc is a mosquitto_sub running on the upstream, printing
// "topic payload" lines (-v) that it collects.
type mosquittoSubProc struct {
	mu    sync.Mutex
	lines []string
}

// startMosquittoSub runs mosquitto_sub on topics until ctx ends or the
// test does.
func startMosquittoSub(t *testing.T, ctx context.Context, tool, host, port string, topics ...string) *mosquittoSubProc {
	t.Helper()
	args := []string{"-h", host, "-p", port, "-V", "mqttv311", "-q", "1", "-v"}
	for _, tp := range topics {
		args = append(args, "-t", tp)
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, tool, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("mosquitto_sub: %v", err)
	}
	s := &mosquittoSubProc{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			s.mu.Unlock()
		}
		cmd.Wait()
	}()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// printed reports whether a message on topic was printed.
func (s *mosquittoSubProc) printed(topic string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if strings.HasPrefix(l, topic+" ") {
			return true
		}
	}
	return false
}

// wait returns the first message on topic whose JSON has id (and, unless
// state is "", that state).
func (s *mosquittoSubProc) wait(t *testing.T, topic, id, state string) map[string]any {
	t.Helper()
	var got map[string]any
	waitFor(t, remoteWait, topic+" "+id+" "+state, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, l := range s.lines {
			tp, payload, ok := strings.Cut(l, " ")
			var v map[string]any
			if !ok || tp != topic || json.Unmarshal([]byte(payload), &v) != nil || v["id"] != id {
				continue
			}
			if state == "" || v["state"] == state {
				got = v
				return true
			}
		}
		return false
	}, func() string {
		s.mu.Lock()
		defer s.mu.Unlock()
		return "mosquitto_sub printed:\n" + strings.Join(s.lines, "\n")
	})
	return got
}
