package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/mqttcore/packet"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runChildBroker() // see memory_test.go
		return
	}
	goleak.VerifyTestMain(m)
}

// wait is how long a test waits for something that should happen.
const wait = 10 * time.Second

// testOptions are the options most tests start from.
func testOptions(t *testing.T) Options {
	return Options{AllowAnonymous: true, Logger: testLogger(t), SysInterval: -1}
}

// testLogger logs at Debug to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startBroker serves a new broker on a loopback port until the test ends
// and returns it with its address.
func startBroker(t *testing.T, opts Options) (*Broker, string) {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b, serve(t, b)
}

// serve serves b on a loopback port until the test ends.
func serve(t *testing.T, b *Broker) string {
	t.Helper()
	addr, _ := serveUntil(t, b)
	return addr
}

// serveUntil serves b on a loopback port until stop is called or the test
// ends; stop waits for Serve to return.
func serveUntil(t *testing.T, b *Broker) (addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

// waitFor polls cond until it is true or wait passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !mqtttest.Poll(wait, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// uniqueID returns a client id unique to this test.
func uniqueID(t *testing.T, name string) string {
	return strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()) + "-" + name
}

// --- Paho clients ---

// paho connects a Paho client (MQTT 3.1.1, no auto reconnect, ordered
// delivery) and disconnects it when the test ends.
func paho(t *testing.T, addr, id string, clean bool, opts ...func(*mqtt.ClientOptions)) mqtt.Client {
	t.Helper()
	c, tok := pahoConnect(t, addr, id, clean, opts...)
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("paho connect %s: %v", id, tok.Error())
	}
	return c
}

// pahoConnect starts a Paho connection and returns the client and token.
func pahoConnect(t *testing.T, addr, id string, clean bool, opts ...func(*mqtt.ClientOptions)) (mqtt.Client, *mqtt.ConnectToken) {
	t.Helper()
	if !strings.Contains(addr, "://") {
		addr = "tcp://" + addr
	}
	o := mqtt.NewClientOptions().AddBroker(addr).SetClientID(id).SetCleanSession(clean).
		SetAutoReconnect(false).SetConnectRetry(false).SetOrderMatters(true).SetProtocolVersion(4).
		SetKeepAlive(30 * time.Second).SetConnectTimeout(wait).SetWriteTimeout(wait)
	for _, f := range opts {
		f(o)
	}
	c := mqtt.NewClient(o)
	t.Cleanup(func() {
		if c.IsConnectionOpen() {
			c.Disconnect(0)
		}
	})
	return c, c.Connect().(*mqtt.ConnectToken)
}

// done waits for a Paho token and fails the test on error.
func done(t *testing.T, tok mqtt.Token, what string) {
	t.Helper()
	if !tok.WaitTimeout(wait) {
		t.Fatalf("%s: timed out", what)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// inbox collects the messages of a Paho subscription.
type inbox struct{ ch chan mqtt.Message }

func newInbox() *inbox { return &inbox{ch: make(chan mqtt.Message, 10000)} }

func (in *inbox) handle(_ mqtt.Client, m mqtt.Message) { in.ch <- m }

// next returns the next message or fails the test.
func (in *inbox) next(t *testing.T) mqtt.Message {
	t.Helper()
	return receive(t, in.ch)
}

// receive returns the next value from ch, or fails the test after wait.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatal("no message arrived")
		var zero T
		return zero
	}
}

// expect checks the next message's topic and payload.
func (in *inbox) expect(t *testing.T, topic, payload string) mqtt.Message {
	t.Helper()
	m := in.next(t)
	if m.Topic() != topic || string(m.Payload()) != payload {
		t.Fatalf("got %s %q, want %s %q", m.Topic(), m.Payload(), topic, payload)
	}
	return m
}

// subscribe subscribes a Paho client and returns an inbox for the filter.
func subscribe(t *testing.T, c mqtt.Client, filter string, qos byte) *inbox {
	t.Helper()
	in := newInbox()
	done(t, c.Subscribe(filter, qos, in.handle), "subscribe "+filter)
	return in
}

// publish publishes with a Paho client and waits for the flow to end.
func publish(t *testing.T, c mqtt.Client, topic string, qos byte, retain bool, payload string) {
	t.Helper()
	done(t, c.Publish(topic, qos, retain, payload), "publish "+topic)
}

// --- raw clients, for byte-level tests ---

// rawClient speaks MQTT with hand-made packets.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *packet.Reader
}

// dialRaw opens a TCP connection to addr.
func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &rawClient{t: t, conn: conn, r: packet.NewReader(conn, 0)}
}

// connectRaw dials and connects; it fails unless the CONNACK accepts.
func connectRaw(t *testing.T, addr, id string, clean bool) (*rawClient, *packet.Connack) {
	t.Helper()
	c := dialRaw(t, addr)
	c.send(&packet.Connect{ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: id, CleanSession: clean, KeepAlive: 60})
	ack := c.connack()
	if ack.ReturnCode != packet.Accepted {
		t.Fatalf("CONNACK %v", ack.ReturnCode)
	}
	return c, ack
}

func (c *rawClient) send(p packet.Packet) {
	c.t.Helper()
	b, err := packet.Append(nil, p)
	if err != nil {
		c.t.Fatalf("encode %T: %v", p, err)
	}
	c.sendBytes(b)
}

func (c *rawClient) sendBytes(b []byte) {
	c.t.Helper()
	_ = c.conn.SetWriteDeadline(time.Now().Add(wait))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next packet or fails the test.
func (c *rawClient) read() packet.Packet {
	c.t.Helper()
	p, err := c.readErr()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return p
}

func (c *rawClient) readErr() (packet.Packet, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	return c.r.Read()
}

func (c *rawClient) connack() *packet.Connack {
	c.t.Helper()
	p := c.read()
	ack, ok := p.(*packet.Connack)
	if !ok {
		c.t.Fatalf("got %T, want CONNACK", p)
	}
	return ack
}

// publishOf reads the next packet and fails unless it is a PUBLISH.
func (c *rawClient) publish() *packet.Publish {
	c.t.Helper()
	p := c.read()
	pub, ok := p.(*packet.Publish)
	if !ok {
		c.t.Fatalf("got %T %+v, want PUBLISH", p, p)
	}
	return pub
}

// expectPacket reads the next packet and compares it with want.
func (c *rawClient) expectPacket(want packet.Packet) {
	c.t.Helper()
	got := c.read()
	if fmt.Sprintf("%T%+v", got, got) != fmt.Sprintf("%T%+v", want, want) {
		c.t.Fatalf("got %T%+v, want %T%+v", got, got, want, want)
	}
}

// subscribe subscribes and checks the SUBACK.
func (c *rawClient) subscribe(id uint16, filter string, qos byte) {
	c.t.Helper()
	c.send(&packet.Subscribe{PacketID: id, Subscriptions: []packet.Subscription{{Filter: filter, QoS: qos}}})
	c.expectPacket(&packet.Suback{PacketID: id, ReturnCodes: []byte{qos}})
}

// expectClosed reads until the broker closes the connection; any packet
// before that fails the test.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	p, err := c.readErr()
	if err == nil {
		c.t.Fatalf("got %T %+v, want the connection closed", p, p)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err) {
		return
	}
	c.t.Fatalf("want the connection closed, got %v", err)
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// --- hooks ---

// asyncHook completes OnPublish calls from its own goroutine, in order,
// after an optional gate, and records what it saw.
type asyncHook struct {
	mu    sync.Mutex
	seen  []string
	gate  chan struct{} // if not nil, done calls wait until it is closed (open)
	queue chan func()
	fail  atomic.Bool
	wg    sync.WaitGroup
}

func newAsyncHook(t *testing.T, gated bool) *asyncHook {
	h := &asyncHook{queue: make(chan func(), 10000)}
	if gated {
		h.gate = make(chan struct{})
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for f := range h.queue {
			f()
		}
	}()
	t.Cleanup(func() {
		h.open()
		close(h.queue)
		h.wg.Wait()
	})
	return h
}

// OnPublish implements PublishHook.
func (h *asyncHook) OnPublish(origin string, p *packet.Publish, done func(error)) {
	h.mu.Lock()
	h.seen = append(h.seen, origin+" "+p.Topic+" "+string(p.Payload))
	h.mu.Unlock()
	var err error
	if h.fail.Load() {
		err = errors.New("disk full")
	}
	h.queue <- func() {
		if h.gate != nil {
			<-h.gate
		}
		done(err)
	}
}

// open releases every done waiting at the gate.
func (h *asyncHook) open() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gate != nil {
		select {
		case <-h.gate:
		default:
			close(h.gate)
		}
	}
}

func (h *asyncHook) calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.seen...)
}

// newBufferLogger logs at Debug, as text, into w.
func newBufferLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
