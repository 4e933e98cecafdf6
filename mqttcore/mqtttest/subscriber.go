package mqtttest

import (
	"crypto/tls"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Message is one message a Subscriber received.
type Message struct {
	Topic    string
	Payload  []byte
	QoS      byte
	Retained bool
	Dup      bool
}

// MessageOf copies a message a Paho client received into a Message, for
// tests that record messages with their own Paho handler. The payload is
// copied, so the result stays valid after the handler returns.
func MessageOf(m paho.Message) Message {
	return Message{
		Topic: m.Topic(), Payload: append([]byte(nil), m.Payload()...),
		QoS: m.Qos(), Retained: m.Retained(), Dup: m.Duplicate(),
	}
}

// Subscriber is a Paho client that records every message it receives, in
// arrival order. Use it to assert what a subscriber of a real broker saw.
type Subscriber struct {
	client paho.Client
	mu     sync.Mutex
	msgs   []Message
}

// ClientOptions configures Connect and Subscribe. The zero value connects over
// plain TCP with a clean session and a generated client id.
type ClientOptions struct {
	TLS          *tls.Config // nil: plain TCP
	ClientID     string      // "": a unique generated id
	CleanSession bool        // ignored (true) when ClientID is empty
}

var clientSeq atomic.Int64

// Connect connects a Paho MQTT 3.1.1 client to addr ("host:port") without
// automatic reconnection. It is disconnected when the test ends.
func Connect(t testing.TB, addr string, o ClientOptions) paho.Client {
	t.Helper()
	scheme := "tcp://"
	if o.TLS != nil {
		scheme = "ssl://"
	}
	id := o.ClientID
	if id == "" {
		id = fmt.Sprintf("mqtttest-%d", clientSeq.Add(1))
		o.CleanSession = true
	}
	opts := paho.NewClientOptions().
		AddBroker(scheme + addr).
		SetClientID(id).
		SetCleanSession(o.CleanSession).
		SetProtocolVersion(4).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(true).
		SetConnectTimeout(5 * time.Second).
		SetKeepAlive(30 * time.Second).
		SetTLSConfig(o.TLS)
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtttest: paho connect to %s: %v", addr, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// Subscribe connects a Paho client to addr and subscribes to each filter at
// QoS 2, so every message arrives at the QoS it was published with. It
// returns after the SUBACK.
func Subscribe(t testing.TB, addr string, filters ...string) *Subscriber {
	t.Helper()
	return SubscribeWith(t, addr, ClientOptions{}, filters...)
}

// SubscribeWith is Subscribe with client options (TLS, client id, session).
func SubscribeWith(t testing.TB, addr string, o ClientOptions, filters ...string) *Subscriber {
	t.Helper()
	s := &Subscriber{client: Connect(t, addr, o)}
	subs := make(map[string]byte, len(filters))
	for _, f := range filters {
		subs[f] = 2
	}
	tok := s.client.SubscribeMultiple(subs, func(_ paho.Client, m paho.Message) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.msgs = append(s.msgs, MessageOf(m))
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtttest: paho subscribe %v: %v", filters, tok.Error())
	}
	return s
}

// Messages returns a copy of the messages received so far.
func (s *Subscriber) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Len returns how many messages were received so far.
func (s *Subscriber) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// On returns the messages received on topic, in arrival order.
func (s *Subscriber) On(topic string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.msgs {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// Count returns how many messages were received on topic so far.
func (s *Subscriber) Count(topic string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.msgs {
		if m.Topic == topic {
			n++
		}
	}
	return n
}

// Disconnect disconnects the client now (it is also done when the test ends).
func (s *Subscriber) Disconnect() { s.client.Disconnect(100) }
