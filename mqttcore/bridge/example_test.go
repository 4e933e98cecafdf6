package bridge_test

import (
	"context"
	"log"
	"time"

	"github.com/edgegw/edgegw/mqttcore/bridge"
	"github.com/edgegw/edgegw/offline"
)

// Example shows how cmd/gateway wires the bridge: the durable queue, the
// local broker's inline client, the publish hook and the Run goroutine.
func Example() {
	db, err := offline.Open("/var/lib/gateway/gateway.db", offline.Options{})
	if err != nil {
		log.Fatal(err)
	}
	q, err := db.Queue("upstream", offline.QueueOptions{MaxMessages: 1_000_000, MaxBytes: 512 << 20})
	if err != nil {
		log.Fatal(err)
	}
	var local bridge.Local // the *broker.Broker, in cmd/gateway

	b, err := bridge.New(bridge.Options{
		Addresses: []string{"tcp://upstream.example:1883", "tls://backup.example:8883"},
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
	// The broker calls b.OnPublish for every message (broker.Options.Hook = b).
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()

	// At shutdown: stop the bridge (it publishes the offline status and
	// disconnects), then close the queue.
	cancel()
	if err := <-done; err != nil {
		log.Print(err)
	}
	if err := db.Close(); err != nil {
		log.Print(err)
	}
}
