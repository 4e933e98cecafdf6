package bridge_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/offline"
)

// localFunc adapts a function to bridge.Local (cmd/gateway passes the
// *broker.Broker).
type localFunc func(ctx context.Context, origin string, p *packet.Publish) error

func (f localFunc) Publish(ctx context.Context, origin string, p *packet.Publish) error {
	return f(ctx, origin, p)
}

// Example shows how cmd/gateway wires the bridge: the durable queue, the
// local broker's inline client, the publish hook and the Run goroutine.
// Nothing listens on the upstream address, so the uplink is down: a local
// QoS 1 message is acknowledged once it is on disk, and waits in the queue.
func Example() {
	dir, err := os.MkdirTemp("", "bridge-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := offline.Open(filepath.Join(dir, "gateway.db"), offline.Options{})
	if err != nil {
		log.Fatal(err)
	}
	q, err := db.Queue("upstream", offline.QueueOptions{MaxMessages: 1_000_000, MaxBytes: 512 << 20})
	if err != nil {
		log.Fatal(err)
	}
	local := localFunc(func(context.Context, string, *packet.Publish) error { return nil })

	b, err := bridge.New(bridge.Options{
		Addresses: []string{"tcp://127.0.0.1:1"}, // e.g. "tcp://upstream.example:1883", "tls://backup.example:8883"
		ClientID:  "pi-kitchen",
		KeepAlive: 30 * time.Second,
		Reconnect: bridge.Reconnect{MinDelay: time.Second, MaxDelay: 2 * time.Minute},
		Rules: []bridge.Rule{
			{Pattern: "sensors/#", Direction: bridge.Out, QoS: 1, RemotePrefix: "gateways/pi-kitchen/"},
			{Pattern: "cmd/#", Direction: bridge.In, QoS: 1, RemotePrefix: "gateways/pi-kitchen/"},
		},
		Queue:   q,
		Local:   local,
		Monitor: bridge.Monitor{TopicPrefix: "gateways/pi-kitchen", MetricsInterval: 30 * time.Second},
		Version: "1.0.0",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()

	// The broker calls b.OnPublish for every message (broker.Options.Hook
	// = b) and acknowledges a QoS 1 publisher when done is called.
	stored := make(chan error, 1)
	b.OnPublish("client-1", &packet.Publish{Topic: "sensors/kitchen/temperature", QoS: 1, Payload: []byte(`{"value":21.5}`)},
		func(err error) { stored <- err })
	fmt.Println("stored:", <-stored)
	fmt.Println("connected:", b.Stats().Connected)
	fmt.Println("queued:", q.Stats().Messages)

	// At shutdown: stop the bridge (it publishes the offline status and
	// disconnects when connected), then close the queue's store.
	cancel()
	if err := <-done; err != nil {
		log.Print(err)
	}
	if err := db.Close(); err != nil {
		log.Print(err)
	}
	// Output:
	// stored: <nil>
	// connected: false
	// queued: 1
}
