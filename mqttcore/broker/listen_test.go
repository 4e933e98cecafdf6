package broker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gorilla/websocket"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// runBroker runs b.Run until the test ends and returns its bound
// addresses once every listener is up.
func runBroker(t *testing.T, b *Broker) []net.Addr {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	var addrs []net.Addr
	waitFor(t, "the listeners", func() bool {
		addrs = b.Addrs()
		return len(addrs) == len(b.opts.Listeners)
	})
	return addrs
}

func TestBroker_Run_listeners(t *testing.T) {
	pki := newTestPKI(t)
	opts := testOptions(t)
	opts.Listeners = []Listener{
		{Address: "127.0.0.1:0"},
		{Address: "127.0.0.1:0", TLS: pki.serverConfig()},
		{Address: "127.0.0.1:0", WebSocketPath: "/mqtt"},
	}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addrs := runBroker(t, b)
	tcpAddr, tlsAddr, wsAddr := addrs[0].String(), addrs[1].String(), addrs[2].String()

	sub := paho(t, tcpAddr, uniqueID(t, "tcp"), true)
	in := subscribe(t, sub, "l/#", 1)

	t.Run("TLS with a client certificate", func(t *testing.T) {
		c := paho(t, "ssl://"+tlsAddr, uniqueID(t, "tls"), true, func(o *mqtt.ClientOptions) { o.SetTLSConfig(pki.clientConfig(true)) })
		publish(t, c, "l/tls", 1, false, "over tls")
		in.expect(t, "l/tls", "over tls")
		// Counted while the TLS client is still connected.
		waitFor(t, "the TLS client's PUBLISH to be counted", func() bool { return b.Stats().PublishReceived == 1 })
	})
	t.Run("TLS without a client certificate is refused", func(t *testing.T) {
		_, tok := pahoConnect(t, "ssl://"+tlsAddr, uniqueID(t, "nocert"), true, func(o *mqtt.ClientOptions) { o.SetTLSConfig(pki.clientConfig(false)) })
		if tok.WaitTimeout(wait) && tok.Error() == nil {
			t.Fatal("connected without a client certificate")
		}
	})
	t.Run("WebSocket", func(t *testing.T) {
		c := paho(t, "ws://"+wsAddr+"/mqtt", uniqueID(t, "ws"), true)
		wsIn := subscribe(t, c, "l/ws-back", 2)
		publish(t, c, "l/ws", 2, false, "over websocket")
		in.expect(t, "l/ws", "over websocket")
		publish(t, sub, "l/ws-back", 2, false, "to websocket")
		wsIn.expect(t, "l/ws-back", "to websocket")
	})
	t.Run("WebSocket subprotocol and frames", func(t *testing.T) {
		ws := dialWS(t, wsAddr)
		if ws.Subprotocol() != "mqtt" { // [MQTT-6.0.0-4]
			t.Fatalf("subprotocol %q, want mqtt", ws.Subprotocol())
		}
		// A CONNECT split over two binary messages is fine [MQTT-6.0.0-2].
		connect := encode(t, &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: uniqueID(t, "raw"), CleanSession: true})
		writeWS(t, ws, websocket.BinaryMessage, connect[:5])
		writeWS(t, ws, websocket.BinaryMessage, connect[5:])
		if typ, msg, err := ws.ReadMessage(); err != nil || typ != websocket.BinaryMessage || string(msg) != "\x20\x02\x00\x00" {
			t.Fatalf("CONNACK: type %d %x %v", typ, msg, err)
		}
		writeWS(t, ws, websocket.TextMessage, []byte{0xc0, 0x00}) // [MQTT-6.0.0-1]
		_ = ws.SetReadDeadline(time.Now().Add(wait))
		if _, _, err := ws.ReadMessage(); err == nil {
			t.Fatal("connection still open after a text frame")
		}
	})
	t.Run("wrong path", func(t *testing.T) {
		resp, err := http.Get("http://" + wsAddr + "/other")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status %d, want 404", resp.StatusCode)
		}
	})
}

func TestBroker_Run_bindError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	opts := testOptions(t)
	opts.Listeners = []Listener{{Address: "127.0.0.1:0"}, {Address: ln.Addr().String()}}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Run(t.Context()); err == nil {
		t.Fatal("Run bound an address in use")
	}
}

func TestNew_badListeners(t *testing.T) {
	for _, l := range []Listener{{}, {Address: ":0", WebSocketPath: "mqtt"}} {
		if _, err := New(Options{Listeners: []Listener{l}}); err == nil {
			t.Errorf("New accepted listener %+v", l)
		}
	}
}

func TestBroker_Run_twice(t *testing.T) {
	b, err := New(testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	waitFor(t, "Run to start", func() bool {
		b.lmu.Lock()
		defer b.lmu.Unlock()
		return b.running
	})
	if err := b.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil on cancellation", err)
	}
}

func dialWS(t *testing.T, addr string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"mqtt"}, HandshakeTimeout: wait}
	ws, resp, err := d.Dial("ws://"+addr+"/mqtt", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

func writeWS(t *testing.T, ws *websocket.Conn, typ int, b []byte) {
	t.Helper()
	if err := ws.WriteMessage(typ, b); err != nil {
		t.Fatal(err)
	}
}

// testPKI is a CA with a server and a client certificate.
type testPKI struct {
	pool           *x509.CertPool
	server, client tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &testPKI{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	issue := func(serial int64, usage x509.ExtKeyUsage) tls.Certificate {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	p.server = issue(2, x509.ExtKeyUsageServerAuth)
	p.client = issue(3, x509.ExtKeyUsageClientAuth)
	return p
}

func (p *testPKI) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool, MinVersion: tls.VersionTLS12}
}

func (p *testPKI) clientConfig(withCert bool) *tls.Config {
	c := &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}
	if withCert {
		c.Certificates = []tls.Certificate{p.client}
	}
	return c
}
