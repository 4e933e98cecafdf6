package broker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/crypto/bcrypt"

	"github.com/edgegw/edgegw/mqttcore/auth"
	"github.com/edgegw/edgegw/mqttcore/packet"
)

// *auth.Auth is what cmd/gateway plugs in.
var (
	_ Authenticator     = (*auth.Auth)(nil)
	_ AddrAuthenticator = (*auth.Auth)(nil)
	_ Authorizer        = (*auth.Auth)(nil)
	_ FilterReader      = (*auth.Auth)(nil)
)

// newAuth returns the tests' auth: user app, password "secret", hashed at
// bcrypt's minimum cost.
func newAuth(t *testing.T, allowAnonymous bool) *auth.Auth {
	t.Helper()
	return newAuthCost(t, allowAnonymous, bcrypt.MinCost)
}

// newAuthCost is newAuth with the password hashed at cost.
func newAuthCost(t *testing.T, allowAnonymous bool, cost int) *auth.Auth {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), cost)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(allowAnonymous, []auth.User{{Username: "app", PasswordHash: string(hash)}}, []auth.Rule{
		{Username: "app", Topic: "sensors/#", Access: auth.Read},
		{Username: "app", Topic: "cmd/#", Access: auth.ReadWrite},
		{Topic: "clients/%c/#", Access: auth.ReadWrite},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func withUser(user, password string) func(*mqtt.ClientOptions) {
	return func(o *mqtt.ClientOptions) { o.SetUsername(user).SetPassword(password) }
}

func TestBroker_auth_connect(t *testing.T) {
	a := newAuth(t, false)
	opts := testOptions(t)
	opts.AllowAnonymous, opts.Authenticator, opts.Authorizer = false, a, a
	b, addr := startBroker(t, opts)
	tests := []struct {
		name string
		opts []func(*mqtt.ClientOptions)
		want packet.ConnackCode
	}{
		{"good password", []func(*mqtt.ClientOptions){withUser("app", "secret")}, packet.Accepted},
		{"wrong password", []func(*mqtt.ClientOptions){withUser("app", "wrong")}, packet.RefusedBadUsernamePassword},
		{"unknown user", []func(*mqtt.ClientOptions){withUser("nobody", "secret")}, packet.RefusedBadUsernamePassword},
		{"anonymous", nil, packet.RefusedNotAuthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, tok := pahoConnect(t, addr, uniqueID(t, "c"), true, tt.opts...)
			if !tok.WaitTimeout(wait) {
				t.Fatal("connect timed out")
			}
			if got := packet.ConnackCode(tok.ReturnCode()); got != tt.want {
				t.Errorf("CONNACK %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("SetAuth lets anonymous clients in", func(t *testing.T) {
		b.SetAuth(true, newAuth(t, true), a)
		paho(t, addr, uniqueID(t, "anon"), true)
	})
}

// Without an Authenticator, AllowAnonymous alone decides.
func TestBroker_auth_anonymousWithoutAuthenticator(t *testing.T) {
	_, addr := startBroker(t, Options{Logger: testLogger(t), SysInterval: -1})
	_, tok := pahoConnect(t, addr, uniqueID(t, "anon"), true)
	if tok.WaitTimeout(wait); packet.ConnackCode(tok.ReturnCode()) != packet.RefusedNotAuthorized {
		t.Errorf("anonymous: CONNACK %d, want 5", tok.ReturnCode())
	}
	paho(t, addr, uniqueID(t, "named"), true, withUser("anyone", "anything"))
}

func TestBroker_auth_subscribe(t *testing.T) {
	a := newAuth(t, true)
	opts := testOptions(t)
	opts.Authenticator, opts.Authorizer = a, a
	_, addr := startBroker(t, opts)
	c := dialRaw(t, addr)
	c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: "dev1", CleanSession: true,
		UsernameFlag: true, Username: "app", PasswordFlag: true, Password: []byte("secret")})
	c.expectPacket(&packet.Connack{})
	c.send(&packet.Subscribe{PacketID: 9, Subscriptions: []packet.Subscription{
		{Filter: "sensors/#", QoS: 1},       // read rule covers it
		{Filter: "secret/#", QoS: 1},        // no rule
		{Filter: "#", QoS: 0},               // granted: filtered at delivery
		{Filter: "clients/dev1/in", QoS: 2}, // %c rule
		{Filter: "clients/dev2/in", QoS: 2}, // someone else's
		{Filter: "a/#/b", QoS: 1},           // invalid filter
		{Filter: "cmd/+", QoS: 2},
	}})
	c.expectPacket(&packet.Suback{PacketID: 9, ReturnCodes: []byte{1, 0x80, 0, 2, 0x80, 0x80, 2}}) // [MQTT-3.9.3-1]
}

// A PUBLISH the Authorizer refuses, or one to $SYS, is dropped and
// counted, but still acknowledged, and the connection stays up.
func TestBroker_auth_publish(t *testing.T) {
	a := newAuth(t, true)
	opts := testOptions(t)
	opts.Authenticator, opts.Authorizer = a, a
	b, addr := startBroker(t, opts)
	watcher := paho(t, addr, uniqueID(t, "watch"), true, withUser("app", "secret"))
	in := subscribe(t, watcher, "cmd/#", 1)
	sensors := subscribe(t, watcher, "sensors/#", 1)
	pub := paho(t, addr, uniqueID(t, "pub"), true, withUser("app", "secret"))

	publish(t, pub, "sensors/t", 1, false, "read-only topic") // app may only read sensors/#
	publish(t, pub, "sensors/t", 2, false, "read-only topic")
	publish(t, pub, "$SYS/broker/version", 1, false, "forged")
	publish(t, pub, "cmd/go", 1, false, "allowed")
	in.expect(t, "cmd/go", "allowed")
	select {
	case m := <-sensors.ch:
		t.Fatalf("refused message delivered: %s %q", m.Topic(), m.Payload())
	default:
	}
	d := b.Stats().Dropped
	if d.Unauthorized != 2 || d.SysTopic != 1 {
		t.Errorf("dropped %+v, want 2 unauthorized and 1 $SYS", d)
	}
	if !pub.IsConnected() {
		t.Error("publisher disconnected")
	}
}

// A will obeys the Authorizer like a PUBLISH.
func TestBroker_auth_will(t *testing.T) {
	a := newAuth(t, true)
	opts := testOptions(t)
	opts.Authenticator, opts.Authorizer = a, a
	b, addr := startBroker(t, opts)
	c := dialRaw(t, addr)
	c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: "w", CleanSession: true, KeepAlive: 60,
		WillFlag: true, WillTopic: "secret/will", WillMessage: []byte("x")})
	c.expectPacket(&packet.Connack{})
	_ = c.conn.Close()
	waitFor(t, "the will to be refused", func() bool { return b.Stats().Dropped.Unauthorized == 1 })
}

// withLocalAddr makes Paho dial from a loopback address of our choice, as a
// client on another host would.
func withLocalAddr(ip string) func(*mqtt.ClientOptions) {
	return func(o *mqtt.ClientOptions) {
		o.SetDialer(&net.Dialer{Timeout: wait, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}})
	}
}

// Finding 6: 200 parallel attackers send wrong passwords, each different
// (bcrypt cost 10),
// and wait for their CONNACKs; a legitimate client still logs in quickly:
// from another address at once (its first login needs a bcrypt check), and
// from the attackers' own address with credentials that passed before. The
// bound is generous: this is a liveness check, not a benchmark (before the
// fix a login took 14.5 s).
func TestBroker_auth_underAttack(t *testing.T) {
	if raceEnabled {
		t.Skip("SKIPPED: a timing check; -race makes bcrypt many times slower (the gate is race-tested in mqttcore/auth)")
	}
	a := newAuthCost(t, false, bcrypt.DefaultCost)
	opts := testOptions(t)
	opts.Logger = slog.New(slog.DiscardHandler) // thousands of refusals
	opts.AllowAnonymous, opts.Authenticator, opts.Authorizer = false, a, a
	b, addr := startBroker(t, opts)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	var guesses atomic.Int64
	for range 200 {
		wg.Go(func() {
			for ctx.Err() == nil {
				attackOnce(ctx, addr, fmt.Sprint("guess-", guesses.Add(1)))
			}
		})
	}
	waitFor(t, "the attack to be under way", func() bool { return b.Stats().AuthFailures >= 1 && b.Stats().ConnectionsRefused >= 10 })

	const bound = 2 * time.Second
	start := time.Now()
	paho(t, addr, uniqueID(t, "elsewhere"), true, withUser("app", "secret"), withLocalAddr("127.0.0.2"))
	fresh := time.Since(start)
	// From the attackers' own address a client also competes with them for
	// the address's allowance of connections before CONNECT: it may be
	// pushed out before its CONNECT is read, and gets in when it retries,
	// as clients do (see TestBroker_pending_silentSockets).
	start = time.Now()
	for attempt := 1; ; attempt++ {
		c, tok := pahoConnect(t, addr, uniqueID(t, "same-address"), true, withUser("app", "secret"))
		if tok.WaitTimeout(wait) && tok.Error() == nil {
			c.Disconnect(0)
			t.Logf("login from the attackers' address at attempt %d", attempt)
			break
		}
		if attempt == 20 {
			t.Fatalf("a login from the attackers' address failed 20 times: %v", tok.Error())
		}
	}
	cached := time.Since(start)
	failures := b.Stats().AuthFailures
	t.Logf("under attack (%d failed logins so far): first login from another address %v, cached login from the attackers' address %v", failures, fresh, cached)
	if fresh > bound || cached > 3*bound {
		t.Fatalf("logins took %v and %v under attack, want < %v and < %v", fresh, cached, bound, 3*bound)
	}
}

// attackOnce connects as app with a wrong password and waits for the
// broker to close the connection (after its CONNACK), or for ctx to end.
func attackOnce(ctx context.Context, addr, password string) {
	connect, _ := packet.Append(nil, &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: "attacker", CleanSession: true,
		UsernameFlag: true, Username: "app", PasswordFlag: true, Password: []byte(password)})
	hostileConn(ctx, addr, connect)
}

// hostileConn dials addr, sends b and reads until the broker closes the
// connection, ctx ends or wait passes.
func hostileConn(ctx context.Context, addr string, b []byte) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(wait))
	if _, err := conn.Write(b); err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, conn)
}
