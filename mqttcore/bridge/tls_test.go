package bridge_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline"
)

// TestBridge_mutualTLS: the bridge reaches a Mosquitto that requires a client
// certificate over tls://, verifying the server's certificate (for the
// address's IP by default); without a client certificate, with an unknown CA
// or with the wrong server name it never connects.
func TestBridge_mutualTLS(t *testing.T) {
	up := mqtttest.StartMosquittoTLS(t, "")

	t.Run("mutual", func(t *testing.T) {
		sub := mqtttest.SubscribeWith(t, up.Addr, mqtttest.ClientOptions{TLS: up.ClientConfig()}, "gw/#")
		_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
		o := options(t, q, "tls://"+up.Addr)
		o.TLS = &tls.Config{RootCAs: up.CA.Pool(), Certificates: []tls.Certificate{up.Client.TLS}}
		r := start(t, o)
		r.awaitConnection(t)
		publishSeq(t, r.b, "sensors/tls", 0, 50, 1)
		waitSequence(t, sub, "gw/sensors/tls", 50)
	})

	refused := []struct {
		name  string
		cfg   func() *tls.Config
		check func(err error) bool
	}{
		{"no client certificate", func() *tls.Config {
			return &tls.Config{RootCAs: up.CA.Pool()}
		}, func(err error) bool { return err != nil }},
		{"unknown CA", func() *tls.Config {
			return &tls.Config{RootCAs: mqtttest.NewCA(t, "other").Pool(), Certificates: []tls.Certificate{up.Client.TLS}}
		}, func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) }},
		{"wrong server name", func() *tls.Config {
			return &tls.Config{RootCAs: up.CA.Pool(), Certificates: []tls.Certificate{up.Client.TLS}, ServerName: "evil.example"}
		}, func(err error) bool { var e x509.HostnameError; return errors.As(err, &e) }},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, q := openQueue(t, t.TempDir(), offline.QueueOptions{})
			o := options(t, q, "tls://"+up.Addr)
			o.TLS = tc.cfg()
			o.Logger = nil
			r := start(t, o)
			mqtttest.WaitFor(t, func() bool { return r.b.Stats().ConnectFailures >= 2 }, "two failed attempts")
			st := r.b.Stats()
			if st.Connected || st.Connects != 0 || !tc.check(st.LastError) {
				t.Fatalf("stats %s", describe(st))
			}
		})
	}
}
