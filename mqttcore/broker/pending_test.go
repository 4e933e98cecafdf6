package broker

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Finding 8: 300 sockets that never send CONNECT, reopened as soon as the
// broker drops them, no longer lock clients out: they count toward the
// pending allowance (not max_connections), one address gets a quarter of
// it, and a new connection pushes the oldest pending one out. Before, 300
// such sockets took all 256 connections until the connect timeout.
func TestBroker_pending_silentSockets(t *testing.T) {
	opts := testOptions(t)
	opts.Logger = slog.New(slog.DiscardHandler)
	opts.MaxConnections, opts.ConnectTimeout = 256, 10*time.Second // the config default, the old timeout
	b, addr := startBroker(t, opts)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	for range 300 {
		wg.Go(func() {
			for ctx.Err() == nil {
				hostileConn(ctx, addr, nil) // sends nothing
			}
		})
	}
	waitFor(t, "the silent sockets to be pushed out", func() bool { return b.Stats().PendingEvicted >= 300 })
	if n := b.Stats().Pending; n > DefaultMaxPending/4+1 {
		t.Errorf("%d pending connections from one address, allowance %d", n, DefaultMaxPending/4)
	}
	start := time.Now()
	paho(t, addr, uniqueID(t, "elsewhere"), true, withLocalAddr("127.0.0.2"))
	t.Logf("a client from another address connected in %v during the attack (%d pending, %d pushed out so far)",
		time.Since(start), b.Stats().Pending, b.Stats().PendingEvicted)
	// From the attackers' own address a client competes with them for its
	// address's allowance: it may be pushed out before its CONNECT is read,
	// and gets in when it retries, as clients do.
	start = time.Now()
	for attempt := 1; ; attempt++ {
		c, tok := pahoConnect(t, addr, uniqueID(t, "same-address"), true)
		if tok.WaitTimeout(wait) && tok.Error() == nil {
			t.Logf("a client from the attackers' address connected at attempt %d, after %v", attempt, time.Since(start))
			c.Disconnect(0)
			return
		}
		if attempt == 20 {
			t.Fatalf("a client from the attackers' address failed 20 times: %v", tok.Error())
		}
	}
}

// A burst of clients from one address that send CONNECT at once — the
// 2,000 parallel logins of `mqttbench idle` — is not cut down to the
// address's allowance: a connection counts as pending only after
// pendingGrace without CONNECT, so none of these is pushed out.
func TestBroker_pending_loginBurst(t *testing.T) {
	opts := testOptions(t)
	opts.MaxPending = 8 // 2 per address
	b, addr := startBroker(t, opts)
	var conns []*rawClient
	for range 20 {
		conns = append(conns, dialRaw(t, addr))
	}
	for i, c := range conns {
		c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: fmt.Sprint("burst-", i), CleanSession: true})
	}
	for _, c := range conns {
		c.expectPacket(&packet.Connack{})
	}
	if st := b.Stats(); st.PendingEvicted != 0 || st.ClientsConnected != 20 {
		t.Fatalf("%d of 20 clients connected, %d pushed out", st.ClientsConnected, st.PendingEvicted)
	}
}

// The allowance of all addresses together: once it is full, a connection
// from an address within its own allowance pushes out the oldest pending
// connection, whichever its address.
func TestBroker_pending_totalAllowance(t *testing.T) {
	opts := testOptions(t)
	opts.MaxPending = 8 // 2 per address
	b, addr := startBroker(t, opts)
	dial := func(ip string) net.Conn {
		t.Helper()
		d := net.Dialer{Timeout: wait, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	var first []net.Conn
	for i := range 4 {
		ip := fmt.Sprint("127.0.0.", i+2)
		first = append(first, dial(ip), dial(ip))
	}
	waitFor(t, "8 pending connections", func() bool { return b.Stats().Pending == 8 })
	last := []net.Conn{dial("127.0.0.6"), dial("127.0.0.6")}
	waitFor(t, "2 connections pushed out", func() bool { return b.Stats().PendingEvicted == 2 })
	if n := b.Stats().Pending; n != 8 {
		t.Fatalf("%d pending connections, allowance 8", n)
	}
	open := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		return isTimeout(err)
	}
	for _, c := range last {
		if !open(c) {
			t.Fatal("a new connection was pushed out")
		}
	}
	closed := 0
	for _, c := range first {
		if !open(c) {
			closed++
		}
	}
	if closed != 2 {
		t.Fatalf("%d of the 8 older connections closed, want 2", closed)
	}
}

// Clients that send a wrong password and hang up at once do not leave
// their connections' goroutines waiting out the failure penalty (up to
// strikeMax, 3 s): a pushed-out connection's authentication ends with it.
// Before, 5,000 such CONNECTs in 3 s left 5,000 goroutines waiting.
func TestBroker_pending_hitAndRunLogins(t *testing.T) {
	a := newAuth(t, false)
	opts := testOptions(t)
	opts.Logger = slog.New(slog.DiscardHandler)
	opts.AllowAnonymous, opts.Authenticator, opts.Authorizer = false, a, a
	opts.MaxPending = 8 // 2 per address
	b, addr := startBroker(t, opts)
	for i := range 30 {
		c := dialRaw(t, addr)
		c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: "x", CleanSession: true,
			UsernameFlag: true, Username: "app", PasswordFlag: true, Password: []byte(fmt.Sprint("guess-", i))})
		_ = c.conn.Close()
	}
	waitFor(t, "the failures", func() bool { return b.Stats().AuthFailures >= 5 })
	if !mqtttest.Poll(time.Second, func() bool { return b.Stats().Connections <= 2 }) {
		t.Fatalf("%d of 30 abandoned logins still served a second later (%d pushed out)", b.Stats().Connections, b.Stats().PendingEvicted)
	}
}

// Finding 7: HTTP connections to a WebSocket listener that never upgrade
// count as pending (bounded, pushed out by newer ones) and are closed when
// idle for the connect timeout; a WebSocket client still connects.
func TestBroker_pending_webSocketHTTP(t *testing.T) {
	opts := testOptions(t)
	opts.ConnectTimeout, opts.MaxPending = 500*time.Millisecond, 8
	opts.Listeners = []Listener{{Address: "127.0.0.1:0", WebSocketPath: "/mqtt"}}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr := runBroker(t, b)[0].String()
	var conns []net.Conn
	for range 20 {
		conns = append(conns, keepAliveRequest(t, addr))
	}
	// They count once pendingGrace is over: 18 are pushed out then.
	waitFor(t, "the idle connections to count", func() bool { return b.Stats().PendingEvicted >= 18 })
	if n := b.Stats().Pending; n > 8 {
		t.Fatalf("%d idle HTTP connections pending, allowance 8", n)
	}
	alive := 0
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); isTimeout(err) {
			alive++
		}
	}
	if alive > 2 { // a quarter of 8 from one address
		t.Fatalf("%d of 20 idle HTTP connections still open, want ≤ 2", alive)
	}
	last := keepAliveRequest(t, addr)
	_ = last.SetReadDeadline(time.Now().Add(wait))
	start := time.Now()
	if _, err := last.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("an idle keep-alive connection was not closed (%v)", err)
	}
	if d := time.Since(start); d > 5*opts.ConnectTimeout {
		t.Fatalf("idle connection closed after %v, timeout %v", d, opts.ConnectTimeout)
	}
	paho(t, "ws://"+addr+"/mqtt", uniqueID(t, "ws"), true)
	waitFor(t, "no pending connection left", func() bool { return b.Stats().Pending == 0 })
}

// A burst of WebSocket clients from one address that log in at once is
// not cut down to the address's allowance: their HTTP connections count
// only after pendingGrace, like raw ones (they counted from their first
// byte: the 9th of 20 simultaneous logins pushed out the 1st).
func TestBroker_pending_webSocketLoginBurst(t *testing.T) {
	opts := testOptions(t)
	opts.MaxPending = 8 // 2 per address
	opts.Listeners = []Listener{{Address: "127.0.0.1:0", WebSocketPath: "/mqtt"}}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr := runBroker(t, b)[0].String()
	var conns []*websocket.Conn
	for range 20 {
		conns = append(conns, dialWS(t, addr))
	}
	for i, ws := range conns {
		writeWS(t, ws, websocket.BinaryMessage, encode(t, &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: fmt.Sprint("wsburst-", i), CleanSession: true}))
	}
	for i, ws := range conns {
		_ = ws.SetReadDeadline(time.Now().Add(wait))
		if _, msg, err := ws.ReadMessage(); err != nil || len(msg) != 4 || msg[3] != 0 {
			t.Fatalf("client %d: CONNACK %x, %v", i, msg, err)
		}
	}
	if st := b.Stats(); st.PendingEvicted != 0 || st.ClientsConnected != 20 {
		t.Fatalf("%d of 20 clients connected, %d pushed out", st.ClientsConnected, st.PendingEvicted)
	}
}

// keepAliveRequest sends an HTTP/1.1 request that does not upgrade, reads
// the response and returns the connection, kept alive.
func keepAliveRequest(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	fmt.Fprintf(c, "GET /other HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return c
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
