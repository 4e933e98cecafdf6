package mqtttest

import (
	"crypto/tls"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pubSub publishes through a fresh client and asserts a subscriber gets it.
func pubSub(t *testing.T, addr string, o ClientOptions) {
	t.Helper()
	sub := SubscribeWith(t, addr, o, "t/#")
	pub := Connect(t, addr, o)
	tok := pub.Publish("t/1", 1, false, "hello")
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	WaitFor(t, func() bool { return sub.Len() == 1 }, "one message")
	if m := sub.Messages()[0]; m.Topic != "t/1" || string(m.Payload) != "hello" || m.QoS != 1 {
		t.Fatalf("got %+v", m)
	}
}

func TestStartMosquitto(t *testing.T) {
	addr := StartMosquitto(t, "")
	pubSub(t, addr, ClientOptions{})
}

func TestStartMosquitto_twoAtOnce(t *testing.T) {
	a, b := StartMosquitto(t, ""), StartMosquitto(t, "")
	if a == b {
		t.Fatalf("both brokers on %s", a)
	}
	pubSub(t, b, ClientOptions{})
}

func TestStartMosquittoTLS(t *testing.T) {
	b := StartMosquittoTLS(t, "")
	t.Run("mutual", func(t *testing.T) {
		pubSub(t, b.Addr, ClientOptions{TLS: b.ClientConfig()})
	})
	t.Run("no client certificate refused", func(t *testing.T) {
		cfg := b.ClientConfig()
		cfg.Certificates = nil
		assertConnectFails(t, b.Addr, cfg)
	})
	t.Run("unknown CA refused", func(t *testing.T) {
		cfg := b.ClientConfig()
		cfg.RootCAs = NewCA(t, "other").Pool()
		assertConnectFails(t, b.Addr, cfg)
	})
}

func assertConnectFails(t *testing.T, addr string, cfg *tls.Config) {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker("ssl://" + addr).
		SetClientID("refused").SetTLSConfig(cfg).SetAutoReconnect(false).
		SetConnectTimeout(5 * time.Second))
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("connect did not finish")
	}
	if tok.Error() == nil {
		c.Disconnect(0)
		t.Fatal("connect succeeded, want a TLS failure")
	}
}

func TestStartMochi(t *testing.T) {
	addr := StartMochi(t)
	pubSub(t, addr, ClientOptions{})
}

func TestWaitFor_pollsUntilTrue(t *testing.T) {
	n := 0
	WaitFor(t, func() bool { n++; return n == 3 }, "third call")
	if n != 3 {
		t.Fatalf("cond called %d times, want 3", n)
	}
	if Poll(20*time.Millisecond, func() bool { return false }) {
		t.Fatal("Poll reported true for a condition that never holds")
	}
}
