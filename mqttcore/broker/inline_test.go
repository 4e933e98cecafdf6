package broker

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// collector gathers inline deliveries.
type collector struct {
	mu   sync.Mutex
	msgs []packet.Publish
}

func (c *collector) fn(p *packet.Publish) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, *p)
}

func (c *collector) get() []packet.Publish {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

func TestBroker_inline(t *testing.T) {
	b, addr := startBroker(t, testOptions(t))
	ctx := t.Context()
	if err := b.Publish(ctx, "sensor", &packet.Publish{Topic: "in/retained", QoS: 1, Retain: true, Payload: []byte("r")}); err != nil {
		t.Fatal(err)
	}
	var col collector
	unsub, err := b.Subscribe("actuator", "in/#", 1, col.fn)
	if err != nil {
		t.Fatal(err)
	}
	if got := col.get(); len(got) != 1 || got[0].Topic != "in/retained" || !got[0].Retain {
		t.Fatalf("retained on subscribe: %+v", got)
	}

	sub := paho(t, addr, uniqueID(t, "sub"), true)
	in := subscribe(t, sub, "in/#", 2)
	in.expect(t, "in/retained", "r")
	if err := b.Publish(ctx, "sensor", &packet.Publish{Topic: "in/temp", QoS: 2, Payload: []byte("21.5")}); err != nil {
		t.Fatal(err)
	}
	if m := in.expect(t, "in/temp", "21.5"); m.Qos() != 2 {
		t.Errorf("TCP subscriber got QoS %d, want 2", m.Qos())
	}
	publish(t, sub, "in/cmd", 2, false, "on")
	in.expect(t, "in/cmd", "on")
	waitFor(t, "inline deliveries", func() bool { return len(col.get()) == 3 })
	got := col.get()
	if got[1].Topic != "in/temp" || got[2].Topic != "in/cmd" || got[2].QoS != 1 || got[1].Retain {
		t.Errorf("inline got %+v, want in/temp then in/cmd at QoS 1 (downgraded), RETAIN 0", got)
	}

	unsub()
	unsub()
	if err := b.Publish(ctx, "sensor", &packet.Publish{Topic: "in/after", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	in.expect(t, "in/after", "x")
	if n := len(col.get()); n != 3 {
		t.Errorf("delivered after unsubscribe: %d messages", n)
	}
}

func TestBroker_inline_invalid(t *testing.T) {
	b, err := New(testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*packet.Publish{{Topic: ""}, {Topic: "a/+"}, {Topic: "a", QoS: 3}} {
		if err := b.Publish(t.Context(), "x", p); !errors.Is(err, ErrInvalidPublish) {
			t.Errorf("Publish(%+v) = %v, want ErrInvalidPublish", p, err)
		}
	}
	fn := func(*packet.Publish) {}
	for _, c := range []struct {
		filter string
		qos    byte
		fn     func(*packet.Publish)
	}{{"a/#/b", 0, fn}, {"", 0, fn}, {"a", 3, fn}, {"a", 0, nil}} {
		if _, err := b.Subscribe("x", c.filter, c.qos, c.fn); !errors.Is(err, ErrInvalidSubscribe) {
			t.Errorf("Subscribe(%q, %d) = %v, want ErrInvalidSubscribe", c.filter, c.qos, err)
		}
	}
}

// Inline Publish at QoS ≥ 1 returns only after the hook's done, with its
// error; QoS 0 does not wait.
func TestBroker_inline_hook(t *testing.T) {
	hook := newAsyncHook(t, true)
	opts := testOptions(t)
	opts.Hook = hook
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := b.Publish(ctx, "s", &packet.Publish{Topic: "h/0", Payload: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	go func() { result <- b.Publish(ctx, "s", &packet.Publish{Topic: "h/1", QoS: 1, Payload: []byte("b")}) }()
	waitFor(t, "the hook to see the QoS 1 message", func() bool { return len(hook.calls()) == 2 })
	select {
	case err := <-result:
		t.Fatalf("Publish returned %v before the hook's done", err)
	default:
	}
	hook.open()
	if err := <-result; err != nil {
		t.Fatalf("Publish = %v", err)
	}
	if got, want := hook.calls(), []string{"s h/0 a", "s h/1 b"}; !slices.Equal(got, want) {
		t.Errorf("hook saw %q, want %q", got, want)
	}

	hook.fail.Store(true)
	if err := b.Publish(ctx, "s", &packet.Publish{Topic: "h/2", QoS: 2, Payload: []byte("c")}); err == nil {
		t.Error("Publish succeeded although the hook failed")
	}

	gated := newAsyncHook(t, true)
	opts.Hook = gated
	b2, _ := New(opts)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b2.Publish(cctx, "s", &packet.Publish{Topic: "h/3", QoS: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish with a cancelled context = %v, want context.Canceled", err)
	}
}
