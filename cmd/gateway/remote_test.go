package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/config"
	"github.com/edgegw/edgegw/internal/remote"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// Remote topics of the rig's gateway (monitor prefix gateways/test).
const (
	rtSet       = "gateways/test/config/set"
	rtResult    = "gateways/test/config/result"
	rtGet       = "gateways/test/config/get"
	rtGetResult = "gateways/test/config/get/result"
	rtCmd       = "gateways/test/cmd/"
	remoteWait  = 30 * time.Second
)

// remoteRig is a gateway bridged to a real Mosquitto, with remote
// configuration and commands on, and an operator client on the upstream.
type remoteRig struct {
	t    *testing.T
	gw   *proc
	up   string  // Mosquitto's address
	op   *client // the operator, subscribed to the result topics
	tmpl string  // the configuration the gateway started with (template)
	seq  int
	cseq uint64         // the last configuration sequence signed
	sent map[string]any // the last config/set envelope sent
}

// remoteConfig is the rig's configuration: bridge to upstream, remote
// section remote, one sim sensor polled every interval.
func remoteConfig(upstream, remote, interval string, bridgeExtra ...string) string {
	return bridgeConfig(upstream, 1, bridgeExtra...) + remote + fmt.Sprintf(`sensors:
  - {name: demo, driver: sim, interval: %s, qos: 1, quantities: [temperature]}
`, interval)
}

func newRemoteRig(t *testing.T, remote string) *remoteRig {
	t.Helper()
	up := mqtttest.StartMosquitto(t, "")
	r := &remoteRig{t: t, up: up, tmpl: remoteConfig(up, remote, "5s")}
	r.op = connect(t, "tcp://"+up, clientOpts{})
	r.op.sub("gateways/test/config/#", 1)
	r.op.sub("gateways/test/cmd/#", 1)
	r.op.sub("gw/sensors/#", 1)
	r.op.sub(statusTopic, 1)
	r.gw = startGateway(t, r.tmpl)
	waitFor(t, statusWait, "gateway online upstream", func() bool {
		m, ok := r.op.last(statusTopic)
		return ok && stateOf(m.Payload) == "online"
	}, nil)
	return r
}

// render fills a config template's placeholders as the gateway's own file.
func (r *remoteRig) render(tmpl string) string {
	p := r.gw
	return strings.NewReplacer(phAddr, p.Addr, phWSAddr, p.WSAddr, phHTTP, p.HTTPAddr, phDataDir, p.DataDir, phDir, p.Dir).Replace(tmpl)
}

// id returns a fresh request id.
func (r *remoteRig) id() string {
	r.seq++
	return fmt.Sprintf("%s-%d", r.t.Name(), r.seq)
}

// send publishes a request (QoS 1, not retained) on topic.
func (r *remoteRig) send(topic string, req map[string]any) {
	r.t.Helper()
	data, err := json.Marshal(req)
	if err != nil {
		r.t.Fatal(err)
	}
	r.op.pub(topic, 1, false, string(data))
}

// setConfig sends doc (a template) on config/set, signed with key when set,
// and returns the request id.
func (r *remoteRig) setConfig(doc string, key ed25519.PrivateKey) string {
	r.t.Helper()
	id := r.id()
	text := r.render(doc)
	req := map[string]any{"id": id, "config": text}
	if key != nil {
		r.cseq++
		req["seq"] = r.cseq
		req["signature"] = base64.StdEncoding.EncodeToString(ed25519.Sign(key, remote.SignedMessage(r.cseq, []byte(text))))
	}
	r.sent = req
	r.send(rtSet, req)
	return id
}

// result waits for the answer with id on topic whose "state" (config/set)
// is state, or any answer when state is "", and returns it decoded.
func (r *remoteRig) result(topic, id, state string, bound time.Duration) map[string]any {
	r.t.Helper()
	var got map[string]any
	var seen []string
	waitFor(r.t, bound, fmt.Sprintf("%s %q on %s", id, state, topic), func() bool {
		seen = seen[:0]
		for _, m := range r.op.on(topic) {
			var v map[string]any
			if json.Unmarshal(m.Payload, &v) != nil || v["id"] != id {
				continue
			}
			seen = append(seen, string(m.Payload))
			if state == "" || v["state"] == state {
				got = v
				return true
			}
		}
		return false
	}, func() string { return fmt.Sprintf("answers for %s: %q", id, seen) })
	return got
}

// command sends cmd/<name> with args and waits for its answer.
func (r *remoteRig) command(name string, args map[string]any) map[string]any {
	r.t.Helper()
	id := r.id()
	req := map[string]any{"id": id}
	for k, v := range args {
		req[k] = v
	}
	r.send(rtCmd+name, req)
	return r.result(rtCmd+name+"/result", id, "", remoteWait)
}

// fileIs fails unless the gateway's config file holds the template tmpl.
func (r *remoteRig) fileIs(tmpl, what string) {
	r.t.Helper()
	data, err := os.ReadFile(r.gw.CfgPath)
	if err != nil {
		r.t.Fatal(err)
	}
	if string(data) != r.render(tmpl) {
		r.t.Fatalf("config file is not %s:\n%s", what, data)
	}
}

// testHash is a bcrypt hash (of "pw"), a secret config/get must not show.
const testHash = "$2a$04$6U3txA6/jIGX2vdHgReYee8MSuvLRq2xOLcN4HBBU9MHA/Fv3o2ly"

const remoteOn = "remote: {config: true, commands: true, rollback_after: 3s}\n"

func TestRemote_config_applied(t *testing.T) {
	r := newRemoteRig(t, remoteOn)
	next := remoteConfig(r.up, remoteOn, "200ms")
	id := r.setConfig(next, nil)
	r.result(rtResult, id, "accepted", remoteWait)
	applied := r.result(rtResult, id, "applied", remoteWait)
	if applied["restart_needed"] != nil {
		t.Errorf("restart_needed = %v, want none", applied["restart_needed"])
	}
	r.fileIs(next, "the new configuration")
	// The interval change shows in the readings: 5 s → 200 ms.
	start := len(r.op.on("gw/sensors/demo/temperature"))
	waitFor(t, remoteWait, "readings every 200ms upstream", func() bool {
		return len(r.op.on("gw/sensors/demo/temperature")) >= start+10
	}, nil)
	if _, err := os.Stat(r.gw.CfgPath + ".last-good"); err != nil {
		t.Errorf("no last good copy beside the file: %v", err)
	}
}

func TestRemote_config_rejected(t *testing.T) {
	r := newRemoteRig(t, remoteOn)
	bad := remoteConfig(r.up, remoteOn, "5s") + "  - {name: demo, driver: sim, intervall: 1s}\n"
	id := r.setConfig(bad, nil)
	res := r.result(rtResult, id, "rejected", remoteWait)
	errs := fmt.Sprint(res["errors"])
	line := strings.Count(r.render(bad), "\n")
	for _, want := range []string{
		fmt.Sprintf("%s:%d: sensors[1]", r.gw.CfgPath, line), // file:line: key
		`"interval"`,                             // did you mean
		fmt.Sprintf("%s:%d", r.gw.CfgPath, line), // the duplicate name too
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors %s\nwant %q", errs, want)
		}
	}
	r.fileIs(r.tmpl, "the old configuration")
	// A bad envelope is rejected too, with its id.
	r.send(rtSet, map[string]any{"id": "no-config"})
	r.result(rtResult, "no-config", "rejected", remoteWait)
	r.fileIs(r.tmpl, "the old configuration")
}

func TestRemote_config_signature(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	on := fmt.Sprintf("remote: {config: true, commands: true, config_public_key: %q}\n", base64.StdEncoding.EncodeToString(pub))
	r := newRemoteRig(t, on)
	next := remoteConfig(r.up, on, "1s")
	for name, key := range map[string]ed25519.PrivateKey{"unsigned": nil, "wrong key": other} {
		id := r.setConfig(next, key)
		res := r.result(rtResult, id, "rejected", remoteWait)
		if !strings.Contains(fmt.Sprint(res["errors"]), "sign") {
			t.Errorf("%s: errors %v, want a signature error", name, res["errors"])
		}
	}
	r.fileIs(r.tmpl, "the old configuration")
	id := r.setConfig(next, priv)
	r.result(rtResult, id, "applied", remoteWait)
	r.fileIs(next, "the signed configuration")
}

func TestRemote_config_get_redacted(t *testing.T) {
	r := newRemoteRig(t, remoteOn)
	r.send(rtGet, map[string]any{"id": "get-1"})
	res := r.result(rtGetResult, "get-1", "", remoteWait)
	data, _ := json.Marshal(res)
	if res["ok"] != true || !strings.Contains(string(data), `"gateway":{"data_dir"`) {
		t.Fatalf("config/get answer %s", data)
	}
	// With credentials in the bridge section and a broker user.
	withSecrets := strings.Replace(remoteConfig(r.up, remoteOn, "5s"), "  client_id: e2e-gw\n",
		"  client_id: e2e-gw\n  username: gw\n  password: s3cret-bridge\n", 1)
	withSecrets = strings.Replace(withSecrets, "  sys_interval: 1s\n", "  sys_interval: 1s\n  users: [{username: app, password_hash: \""+testHash+"\"}]\n", 1)
	id := r.setConfig(withSecrets, nil)
	r.result(rtResult, id, "applied", remoteWait)
	r.send(rtGet, map[string]any{"id": "get-2"})
	res = r.result(rtGetResult, "get-2", "", remoteWait)
	data, _ = json.Marshal(res)
	for _, secret := range []string{"s3cret-bridge", testHash} {
		if strings.Contains(string(data), secret) {
			t.Errorf("config/get shows a secret %q: %s", secret, data)
		}
	}
	result, _ := res["result"].(map[string]any)
	bridge, _ := result["bridge"].(map[string]any)
	broker, _ := result["broker"].(map[string]any)
	users, _ := broker["users"].([]any)
	if bridge["password"] != config.Redacted || len(users) != 1 || users[0].(map[string]any)["password_hash"] != config.Redacted {
		t.Errorf("config/get: secrets not shown as %s: %s", config.Redacted, data)
	}
}

func TestRemote_commands(t *testing.T) {
	r := newRemoteRig(t, remoteOn)
	res := r.command("status", nil)
	if res["ok"] != true || res["result"].(map[string]any)["uptime_seconds"] == nil {
		t.Errorf("status: %v", res)
	}
	res = r.command("queue", nil)
	if q, _ := res["result"].(map[string]any); res["ok"] != true || q["messages"] == nil || q["dropped"] == nil || q["oldest_age_seconds"] == nil {
		t.Errorf("queue: %v", res)
	}
	res = r.command("sensor_read", map[string]any{"sensor": "demo"})
	rs, _ := res["result"].(map[string]any)["readings"].([]any)
	if res["ok"] != true || len(rs) != 1 || rs[0].(map[string]any)["quantity"] != "temperature" {
		t.Errorf("sensor_read: %v", res)
	}
	res = r.command("sensor_read", map[string]any{"sensor": "nope"})
	if res["ok"] != false || !strings.Contains(fmt.Sprint(res["error"]), "nope") {
		t.Errorf("sensor_read of an unknown sensor: %v", res)
	}
	res = r.command("log_level", map[string]any{"level": "debug", "for": "1s"})
	if res["ok"] != true {
		t.Fatalf("log_level: %v", res)
	}
	r.gw.WaitLog("remote: temporary log level expired")
	res = r.command("log_level", map[string]any{"level": "loud"})
	if res["ok"] != false {
		t.Errorf("log_level loud: %v", res)
	}
	res = r.command("reload", nil)
	if res["ok"] != true {
		t.Errorf("reload: %v", res)
	}
	res = r.command("selfdestruct", nil)
	if res["ok"] != false || !strings.Contains(fmt.Sprint(res["error"]), "unknown command") {
		t.Errorf("unknown command: %v", res)
	}
	// Bad requests: not JSON, no id. The one without id cannot be
	// matched; the gateway must still answer the next one.
	r.op.pub(rtCmd+"status", 1, false, "{not json")
	r.op.pub(rtCmd+"status", 1, false, `{"x": 1}`)
	if res := r.command("status", nil); res["ok"] != true {
		t.Errorf("status after bad requests: %v", res)
	}
	res = r.command("restart", nil)
	if res["ok"] != true {
		t.Errorf("restart: %v", res)
	}
	if err, ok := r.gw.WaitExit(stopWait); !ok || err != nil {
		t.Fatalf("restart: exit %v (exited %v), want a clean exit", err, ok)
	}
}

// TestRemote_config_rolledBack sends a bridge change to an address where
// nothing listens: the uplink does not come back within rollback_after, so
// the gateway restores the old file, reconnects and reports the rollback.
func TestRemote_config_rolledBack(t *testing.T) {
	r := newRemoteRig(t, remoteOn)
	dead := mqtttest.FreeAddr(t)
	next := remoteConfig(dead, remoteOn, "5s")
	id := r.setConfig(next, nil)
	r.result(rtResult, id, "accepted", remoteWait)
	res := r.result(rtResult, id, "rolled_back", remoteWait)
	if !strings.Contains(fmt.Sprint(res["errors"]), "did not come back") {
		t.Errorf("rollback errors: %v", res["errors"])
	}
	r.fileIs(r.tmpl, "the old configuration")
	if _, err := os.Stat(r.gw.CfgPath + ".trial"); !os.IsNotExist(err) {
		t.Errorf("trial mark left: %v", err)
	}
	// The uplink is back with the old settings, and remote still works.
	if res := r.command("status", nil); res["ok"] != true {
		t.Errorf("status after rollback: %v", res)
	}
}

// TestRemote_config_bridgeChangeKept changes the client id: the uplink
// comes back with it, so the change is kept.
func TestRemote_config_bridgeChangeKept(t *testing.T) {
	r := newRemoteRig(t, remoteOn)
	next := strings.Replace(remoteConfig(r.up, remoteOn, "5s"), "client_id: e2e-gw", "client_id: e2e-gw2", 1)
	id := r.setConfig(next, nil)
	r.result(rtResult, id, "applied", remoteWait)
	r.fileIs(next, "the new configuration")
	waitFor(t, remoteWait, "status from the new client id", func() bool {
		m, ok := r.op.last(statusTopic)
		return ok && strings.Contains(string(m.Payload), `"client_id":"e2e-gw2"`) && stateOf(m.Payload) == "online"
	}, nil)
}

// TestRemote_config_killDuringApply kills the gateway (kill -9) at random
// points of applies: the file must always be the old or the new one, whole.
func TestRemote_config_killDuringApply(t *testing.T) {
	r := newRemoteRig(t, remoteOn)
	docs := []string{r.tmpl, remoteConfig(r.up, remoteOn, "300ms")}
	for i := range 8 {
		doc := docs[(i+1)%2]
		r.setConfig(doc, nil)
		time.Sleep(time.Duration(i*7%40) * time.Millisecond)
		r.gw.Kill()
		data, err := os.ReadFile(r.gw.CfgPath)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != r.render(docs[0]) && string(data) != r.render(docs[1]) {
			t.Fatalf("kill %d: the file is neither the old nor the new one:\n%s", i, data)
		}
		if _, err := config.Load(r.gw.CfgPath); err != nil {
			t.Fatalf("kill %d: the file does not load: %v", i, err)
		}
		r.gw.Start()
	}
}

// TestRemote_config_trialResumesAfterKill kills the gateway (kill -9) while
// a bad bridge change is on trial: the restarted gateway, running the bad
// file, gives the uplink rollback_after, then restores the old file and
// reports the rollback.
func TestRemote_config_trialResumesAfterKill(t *testing.T) {
	r := newRemoteRig(t, remoteOn)
	next := remoteConfig(mqtttest.FreeAddr(t), remoteOn, "5s")
	id := r.setConfig(next, nil)
	r.result(rtResult, id, "accepted", remoteWait)
	r.gw.WaitLog("remote: bridge change on trial")
	r.gw.Kill()
	r.fileIs(next, "the new configuration, on trial")
	r.gw.Start()
	res := r.result(rtResult, id, "rolled_back", remoteWait)
	if !strings.Contains(fmt.Sprint(res["errors"]), "did not come back") {
		t.Errorf("rollback errors: %v", res["errors"])
	}
	r.fileIs(r.tmpl, "the old configuration")
}

// TestRemote_localClients: the requests never reach the local broker, and a
// local client cannot forge an answer upstream.
func TestRemote_localClients(t *testing.T) {
	r := newRemoteRig(t, remoteOn)
	local := connectLocal(t, r.gw, clientOpts{})
	local.sub("$SYS/#", 0)
	local.sub("#", 0)
	local.Publish(remoteLocal+"config/result", 1, false, `{"id":"forged","state":"applied"}`).WaitTimeout(tokenWait)
	local.Publish(remoteLocal+"cmd/status/result", 1, false, `{"id":"forged","ok":true}`).WaitTimeout(tokenWait)
	if res := r.command("status", nil); res["ok"] != true { // answered after the forgeries were handled
		t.Fatalf("status: %v", res)
	}
	for _, m := range r.op.messages() {
		if strings.Contains(string(m.Payload), "forged") {
			t.Errorf("a local client's forged answer reached the upstream on %s", m.Topic)
		}
	}
	for _, m := range local.messages() {
		if strings.Contains(m.Topic, "remote") {
			t.Errorf("a local client saw the remote topic %s", m.Topic)
		}
	}
}

// TestRemote_config_replay: a signed document carries a sequence its
// signature covers; sending a captured one again, under a new request id
// or after a restart under its own, is rejected as a replay and changes
// nothing; a higher sequence is applied.
func TestRemote_config_replay(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	on := fmt.Sprintf("remote: {config: true, commands: true, config_public_key: %q}\n", base64.StdEncoding.EncodeToString(pub))
	r := newRemoteRig(t, on)
	first := remoteConfig(r.up, on, "1s")
	id := r.setConfig(first, priv)
	r.result(rtResult, id, "applied", remoteWait)
	captured := r.sent

	replay := func(id string) {
		t.Helper()
		req := map[string]any{}
		for k, v := range captured {
			req[k] = v
		}
		req["id"] = id
		r.send(rtSet, req)
		res := r.result(rtResult, id, "rejected", remoteWait)
		if errs := fmt.Sprint(res["errors"]); !strings.Contains(errs, "replayed document: seq 1 is not above 2") {
			t.Errorf("replay %s: errors %s, want a replay", id, errs)
		}
	}
	second := remoteConfig(r.up, on, "2s")
	id2 := r.setConfig(second, priv) // seq 2
	r.result(rtResult, id2, "applied", remoteWait)
	replay("replay-new-id")
	r.fileIs(second, "the second configuration")

	r.gw.Restart()
	if res := r.command("status", nil); res["ok"] != true {
		t.Fatalf("status after restart: %v", res)
	}
	replay(id) // its own id: the restarted gateway has forgotten the ids, not the sequence
	r.fileIs(second, "the second configuration, after a restart")
	data, err := os.ReadFile(r.gw.DataDir + "/remote-config.seq")
	if err != nil || string(data) != "2\n" {
		t.Errorf("sequence file: %q, %v", data, err)
	}
	id3 := r.setConfig(first, priv) // seq 3: the old document, newly signed, is fine
	r.result(rtResult, id3, "applied", remoteWait)
	r.fileIs(first, "the first configuration again")
}
