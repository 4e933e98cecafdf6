package broker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgegw/edgegw/config"
	"github.com/edgegw/edgegw/mqttcore/auth"
	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
)

// piAuth builds the users and ACL of the shipped examples/pi.yaml, loaded
// by the config package, as cmd/gateway does.
func piAuth(t *testing.T) *auth.Auth {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "..", "examples", "pi.yaml"))
	if err != nil {
		t.Fatalf("load examples/pi.yaml: %v", err)
	}
	var users []auth.User
	for _, u := range cfg.Broker.Users {
		users = append(users, auth.User{Username: u.Username, PasswordHash: u.PasswordHash})
	}
	var rules []auth.Rule
	for _, r := range cfg.Broker.ACL {
		access, err := auth.ParseAccess(r.Access)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, auth.Rule{Username: r.Username, Topic: r.Topic, Access: access})
	}
	a, err := auth.New(cfg.Broker.AllowAnonymous, users, rules)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// mustRules returns an Auth that accepts every client and has rules.
func mustRules(t *testing.T, rules ...auth.Rule) *auth.Auth {
	t.Helper()
	a, err := auth.New(true, nil, rules)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// granted subscribes with Paho and returns the granted QoS (0x80: refused).
func granted(t *testing.T, c mqtt.Client, filter string, qos byte, in *inbox) byte {
	t.Helper()
	tok := c.Subscribe(filter, qos, in.handle).(*mqtt.SubscribeToken)
	done(t, tok, "subscribe "+filter)
	return tok.Result()[filter]
}

// piScenario: homeassistant publishes readings and a relay command; app,
// subscribed to sensors/#, gets every reading (retained and live) and never
// sensors/relay/set.
func piScenario(t *testing.T, addr string) {
	ha := paho(t, addr, uniqueID(t, "ha"), true, withUser("homeassistant", "ha-secret"))
	publish(t, ha, "sensors/relay/set", 1, true, "ON")
	publish(t, ha, "sensors/kitchen/temperature", 1, true, "21.5")
	app := paho(t, addr, uniqueID(t, "app"), true, withUser("app", "app-secret"))
	in := newInbox()
	if q := granted(t, app, "sensors/#", 1, in); q != 1 {
		t.Fatalf("app: SUBACK %#x for sensors/#, want 1 (finding 3)", q)
	}
	in.expect(t, "sensors/kitchen/temperature", "21.5") // the retained one, not relay/set
	for i, topic := range []string{"sensors/kitchen/humidity", "sensors/relay/set", "sensors/relay/state", "sensors/relay/set", "sensors/end"} {
		publish(t, ha, topic, byte(i%2), false, fmt.Sprint(i))
	}
	in.expect(t, "sensors/kitchen/humidity", "0")
	in.expect(t, "sensors/relay/state", "2")
	in.expect(t, "sensors/end", "4")
	select {
	case m := <-in.ch:
		t.Fatalf("app got %s %q", m.Topic(), m.Payload())
	case <-time.After(100 * time.Millisecond):
	}
}

// Finding 3, with the shipped examples/pi.yaml ACL as is; Mosquitto with an
// equivalent ACL file behaves the same.
func TestBroker_ACL_piExample(t *testing.T) {
	t.Run("edgegw", func(t *testing.T) {
		a := piAuth(t)
		opts := testOptions(t)
		opts.AllowAnonymous, opts.Authenticator, opts.Authorizer = false, a, a
		_, addr := startBroker(t, opts)
		piScenario(t, addr)
	})
	t.Run("mosquitto", func(t *testing.T) {
		acl := filepath.Join(t.TempDir(), "acl")
		if err := os.WriteFile(acl, []byte("user homeassistant\ntopic readwrite sensors/#\n"+
			"user app\ntopic deny sensors/relay/set\ntopic read sensors/#\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		piScenario(t, mqtttest.StartMosquitto(t, "acl_file "+acl+"\n"))
	})
}

// Finding 3 with mosquitto_sub, as reported: `mosquitto_sub -t 'sensors/#'`
// as app gets the readings and not the relay command.
func TestBroker_ACL_piExample_mosquittoSub(t *testing.T) {
	mosquittoTool(t, "mosquitto_sub")
	a := piAuth(t)
	opts := testOptions(t)
	opts.AllowAnonymous, opts.Authenticator, opts.Authorizer = false, a, a
	_, addr := startBroker(t, opts)
	mosquittoPub(t, addr, "-u", "homeassistant", "-P", "ha-secret", "-t", "sensors/relay/set", "-m", "ON", "-r", "-q", "1")
	mosquittoPub(t, addr, "-u", "homeassistant", "-P", "ha-secret", "-t", "sensors/kitchen/temperature", "-m", "21.5", "-r", "-q", "1")
	linger := "2" // seconds mosquitto_sub waits for messages after logging in (bcrypt cost 10)
	if raceEnabled {
		linger = "15"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*wait)
	defer cancel()
	out, _ := mosquittoCmd(ctx, t, "mosquitto_sub", addr, "-u", "app", "-P", "app-secret", "-t", "sensors/#", "-v", "-W", linger).CombinedOutput()
	if got := string(out); !strings.Contains(got, "sensors/kitchen/temperature 21.5") || strings.Contains(got, "relay") {
		t.Fatalf("mosquitto_sub -t sensors/# as app printed %q, want the temperature and no relay command", got)
	}
}

// Finding 3: on a broker with one deny rule, "#" is granted and delivers
// everything else.
func TestBroker_ACL_hashWithOneDeny(t *testing.T) {
	_, addr := aclBroker(t, auth.Rule{Username: "svc", Topic: "#", Access: auth.Write},
		auth.Rule{Topic: "secret", Access: auth.Deny}, auth.Rule{Topic: "#", Access: auth.ReadWrite})
	pub := paho(t, addr, uniqueID(t, "pub"), true, withUser("svc", "x"))
	sub := paho(t, addr, uniqueID(t, "sub"), true)
	in := newInbox()
	if q := granted(t, sub, "#", 1, in); q != 1 {
		t.Fatalf("SUBACK %#x for #, want 1", q)
	}
	if q := granted(t, sub, "secret", 1, newInbox()); q != 0x80 {
		t.Fatalf("SUBACK %#x for secret, want 0x80", q)
	}
	publish(t, pub, "secret", 1, false, "s")
	publish(t, pub, "secret/x", 1, false, "x") // not the denied name
	publish(t, pub, "open", 0, false, "o")
	in.expect(t, "secret/x", "x")
	in.expect(t, "open", "o")
}

// privateRules give every user private/<user>/# and everyone public/#, and
// let svc publish anywhere;
// revoked takes read access to private/ away.
var (
	privateRules = []auth.Rule{{Username: "svc", Topic: "#", Access: auth.Write}, {Topic: "private/%u/#", Access: auth.ReadWrite}, {Topic: "public/#", Access: auth.ReadWrite}}
	revokedRules = []auth.Rule{{Username: "svc", Topic: "#", Access: auth.Write}, {Topic: "private/%u/#", Access: auth.Write}, {Topic: "public/#", Access: auth.ReadWrite}}
)

// aclBroker starts a broker that accepts every client, with rules.
func aclBroker(t *testing.T, rules ...auth.Rule) (*Broker, string) {
	t.Helper()
	a := mustRules(t, rules...)
	opts := testOptions(t)
	opts.Authenticator, opts.Authorizer = a, a
	return startBroker(t, opts)
}

// Finding 2: revoking read access stops an existing persistent
// subscription at once, for live messages and for messages queued while
// the client was away.
func TestBroker_ACL_revokeAfterReload(t *testing.T) {
	b, addr := aclBroker(t, privateRules...)
	pub := paho(t, addr, uniqueID(t, "pub"), true, withUser("svc", "x"))
	alice := paho(t, addr, uniqueID(t, "alice"), false, withUser("alice", "x"))
	in := subscribe(t, alice, "private/alice/#", 1)
	done(t, alice.Subscribe("public/#", 1, in.handle), "subscribe public/#")
	publish(t, pub, "private/alice/a", 1, false, "before")
	in.expect(t, "private/alice/a", "before")
	alice.Disconnect(100)
	waitFor(t, "alice offline", func() bool { return b.Stats().ClientsConnected == 1 })
	publish(t, pub, "private/alice/a", 1, false, "queued")

	r := mustRules(t, revokedRules...)
	b.SetAuth(true, r, r) // what cmd/gateway does on SIGHUP
	paho(t, addr, uniqueID(t, "alice"), false, withUser("alice", "x"), func(o *mqtt.ClientOptions) {
		o.SetDefaultPublishHandler(in.handle)
	})
	publish(t, pub, "private/alice/a", 1, false, "live")
	publish(t, pub, "public/x", 1, false, "sentinel")
	in.expect(t, "public/x", "sentinel")
	if b.Stats().ReadDenied < 2 {
		t.Fatalf("ReadDenied = %d, want ≥ 2", b.Stats().ReadDenied)
	}
}

// Finding 2, for a QoS 1 message sent but not acknowledged: after the
// rules change, reconnecting does not re-send it: the session forgets it
// as if acknowledged.
func TestBroker_ACL_revokeInflight(t *testing.T) {
	b, addr := aclBroker(t, privateRules...)
	pub := paho(t, addr, uniqueID(t, "pub"), true, withUser("svc", "x"))
	id := uniqueID(t, "alice")
	login := &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: id, KeepAlive: 60, UsernameFlag: true, Username: "alice"}
	c := dialRaw(t, addr)
	c.send(login)
	c.connack()
	c.subscribe(1, "private/alice/#", 1)
	c.subscribe(2, "public/#", 1)
	publish(t, pub, "private/alice/a", 1, false, "unacked")
	if p := c.publish(); p.Topic != "private/alice/a" {
		t.Fatalf("got %s", p.Topic)
	}
	_ = c.conn.Close() // no PUBACK
	waitFor(t, "alice offline", func() bool { return b.Stats().ClientsConnected == 1 })

	r := mustRules(t, revokedRules...)
	b.SetAuth(true, r, r)
	c = dialRaw(t, addr)
	c.send(login)
	if !c.connack().SessionPresent {
		t.Fatal("session not resumed")
	}
	publish(t, pub, "public/x", 1, false, "sentinel")
	if p := c.publish(); p.Topic != "public/x" {
		t.Fatalf("got %s %q (dup %v), want the sentinel", p.Topic, p.Payload, p.Dup)
	}
}

// Finding 2 across a restart: the persisted session's subscription stays,
// but the new rules decide what it delivers, queued messages included.
func TestBroker_ACL_revokeAfterRestart(t *testing.T) {
	store := newMemStore()
	a := mustRules(t, privateRules...)
	opts := testOptions(t)
	opts.Authenticator, opts.Authorizer, opts.Sessions = a, a, store
	opts.Listeners = []Listener{{Address: "127.0.0.1:0"}}
	b1, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := runUntilStopped(t, b1)
	pub := paho(t, addr, uniqueID(t, "pub"), true, withUser("alice", "x"))
	alice := paho(t, addr, uniqueID(t, "alice"), false, withUser("alice", "x"))
	subscribe(t, alice, "private/alice/#", 1)
	subscribe(t, alice, "public/#", 1)
	alice.Disconnect(100)
	waitFor(t, "alice offline", func() bool { return b1.Stats().ClientsConnected == 1 })
	publish(t, pub, "private/alice/a", 1, false, "queued")
	pub.Disconnect(100)
	stop()

	r := mustRules(t, revokedRules...)
	opts.Authenticator, opts.Authorizer = r, r
	b2, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ = runUntilStopped(t, b2)
	in := newInbox()
	alice, tok := pahoConnect(t, addr, uniqueID(t, "alice"), false, withUser("alice", "x"), func(o *mqtt.ClientOptions) {
		o.SetDefaultPublishHandler(in.handle)
	})
	done(t, tok, "alice reconnects")
	if !tok.SessionPresent() {
		t.Fatal("the persisted session was not resumed")
	}
	pub = paho(t, addr, uniqueID(t, "pub"), true, withUser("alice", "x"))
	publish(t, pub, "private/alice/a", 1, false, "live")
	publish(t, pub, "public/x", 1, false, "sentinel")
	in.expect(t, "public/x", "sentinel")
}

// Finding 1: Bob takes Alice's client id and gets a new session: neither
// her queued message nor her subscription's next live one. Mosquitto, with
// an equivalent ACL, gives Bob none of her messages either (it resumes the
// session but checks every delivery); we also give him a session of his
// own (session present 0), and Alice one when she comes back.
func TestBroker_sessionOwnership(t *testing.T) {
	t.Run("edgegw", func(t *testing.T) {
		b, addr := aclBroker(t, privateRules...)
		ownershipScenario(t, addr, func() {
			waitFor(t, "the client gone", func() bool { return b.Stats().ClientsConnected == 1 })
		})
	})
	t.Run("mosquitto", func(t *testing.T) {
		acl := filepath.Join(t.TempDir(), "acl")
		if err := os.WriteFile(acl, []byte("user svc\ntopic write #\n\npattern readwrite private/%u/#\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		ownershipScenario(t, mqtttest.StartMosquitto(t, "acl_file "+acl+"\n"), nil)
	})
}

// ownershipScenario runs the Alice/Bob scenario on the broker at addr.
// gone, if not nil, waits until the broker saw a client leave (with only
// the publisher left connected) and says the broker is ours, which gives
// each user a session of its own; with nil (Mosquitto) a short pause
// stands in for it and only the deliveries are checked.
func ownershipScenario(t *testing.T, addr string, gone func()) {
	owned := gone != nil
	if gone == nil {
		gone = func() { time.Sleep(200 * time.Millisecond) } // Mosquitto has no quicker signal
	}
	pub := paho(t, addr, uniqueID(t, "pub"), true, withUser("svc", "x"))
	id := uniqueID(t, "shared-id")
	alice := paho(t, addr, id, false, withUser("alice", "x"))
	subscribe(t, alice, "private/alice/#", 1)
	alice.Disconnect(100)
	gone()
	publish(t, pub, "private/alice/mail", 1, false, "for alice")

	in := newInbox()
	bob, tok := pahoConnect(t, addr, id, false, withUser("bob", "x"), func(o *mqtt.ClientOptions) {
		o.SetDefaultPublishHandler(in.handle)
	})
	done(t, tok, "bob connects")
	if owned && tok.SessionPresent() {
		t.Error("bob got session present 1 for alice's session")
	}
	done(t, bob.Subscribe("private/bob/#", 1, in.handle), "subscribe")
	publish(t, pub, "private/alice/mail", 1, false, "next for alice")
	publish(t, pub, "private/bob/mail", 1, false, "for bob")
	in.expect(t, "private/bob/mail", "for bob")
	if !owned {
		return
	}
	bob.Disconnect(100)
	gone()

	// Bob resumes his own session; Alice, coming back, gets a new one.
	bob, tok = pahoConnect(t, addr, id, false, withUser("bob", "x"))
	done(t, tok, "bob reconnects")
	if !tok.SessionPresent() {
		t.Error("bob's own session was not resumed")
	}
	bob.Disconnect(100)
	_, tok = pahoConnect(t, addr, id, false, withUser("alice", "x"))
	done(t, tok, "alice reconnects")
	if tok.SessionPresent() {
		t.Error("alice got session present 1 for bob's session")
	}
}

// BenchmarkBroker_routeACL measures the broker's own fan-out cost in
// process (no sockets, so it is steadier than the TCP benchmarks on a busy
// machine): one QoS 0 message routed to 16 sessions subscribed to bench/#,
// whose outbound queues the loop empties instead of a writer. "none" has no
// ACL; "rules" the ten benchRules, under which bench/# delivers only
// readable topics (no check per delivery); "deny-inside" adds a deny rule
// inside bench/#, so every delivery is checked, from the per-session cache.
func BenchmarkBroker_routeACL(b *testing.B) {
	for _, acl := range []struct {
		name  string
		rules []auth.Rule
	}{{"none", nil}, {"rules", benchRules}, {"deny-inside", denyInside}} {
		b.Run(acl.name, func(b *testing.B) {
			opts := Options{AllowAnonymous: true, MaxOutbound: 1 << 20, Logger: slog.New(slog.DiscardHandler)}
			if acl.rules != nil {
				a, err := auth.New(true, nil, acl.rules)
				if err != nil {
					b.Fatal(err)
				}
				opts.Authenticator, opts.Authorizer = a, a
			}
			br, err := New(opts)
			if err != nil {
				b.Fatal(err)
			}
			var clients []*client
			for i := range 16 {
				c := &client{b: br, conn: discardConn{}, id: fmt.Sprint("sub-", i), clean: true}
				c.writing = true // no writer goroutine: the loop empties the queues
				s := newSess(br, c.id, "", true)
				s.attach(c, false)
				s.subscribe("bench/#", 0)
				clients = append(clients, c)
			}
			p := &packet.Publish{Topic: "bench/kitchen/temperature", Payload: make([]byte, 64)}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				br.route(p, nil)
				if i%512 == 511 {
					for _, c := range clients {
						c.outMu.Lock()
						clear(c.out)
						c.out = c.out[:0]
						c.outMu.Unlock()
					}
				}
			}
		})
	}
}

// discardConn is a net.Conn that accepts every write.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
func (discardConn) SetDeadline(time.Time) error      { return nil }

// filterReader is an Authorizer that allows everything and vouches, with
// CanReadAll, for every filter but those under a/; it counts those calls.
type filterReader struct{ calls int }

func (*filterReader) CanPublish(_, _, _ string) bool   { return true }
func (*filterReader) CanSubscribe(_, _, _ string) bool { return true }
func (*filterReader) CanRead(_, _, _ string) bool      { return true }
func (f *filterReader) CanReadAll(_, _, filter string) bool {
	f.calls++
	return !strings.HasPrefix(filter, "a/")
}

// The per-delivery read check is skipped exactly while every subscription
// of the session can deliver only readable topics, as subscriptions come
// and go and the rules change; each subscription change asks
// CanReadAll about its own filter only (asking about all of them made n
// subscriptions cost n²/2 calls: 2,000 took 1.3 s under ten rules).
func TestSess_allReadable(t *testing.T) {
	fr := &filterReader{}
	opts := testOptions(t)
	opts.Authorizer = fr
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := newSess(b, "c", "u", true)
	check := func(step string, want bool) {
		t.Helper()
		if got := s.allReadable.Load() == b.auth.Load(); got != want {
			t.Fatalf("%s: check skipped %v, want %v", step, got, want)
		}
	}
	s.subscribe("b/#", 0)
	check("b/#", true)
	s.subscribe("a/#", 0)
	check("b/# and a/#", false)
	s.subscribe("a/#", 1)
	check("a/# again", false)
	s.unsubscribe("a/#")
	check("a/# unsubscribed", true)
	s.unsubscribe("a/#")
	check("a/# unsubscribed twice", true)
	s.subscribe("a/x", 0)
	check("a/x", false)
	b.SetAuth(true, nil, &filterReader{})
	check("new rules", false)
	s.unsubscribe("a/x")
	check("a/x unsubscribed under the new rules", true)

	fr = &filterReader{}
	b.SetAuth(true, nil, fr)
	const n = 1000
	for i := range n {
		s.subscribe(fmt.Sprint("many/", i), 0)
	}
	if fr.calls > n+1 {
		t.Fatalf("%d subscriptions asked CanReadAll %d times", n, fr.calls)
	}
}
