package broker_test

import (
	"context"
	"fmt"

	"github.com/edgegw/edgegw/mqttcore/broker"
	"github.com/edgegw/edgegw/mqttcore/packet"
)

// In-process clients: a sensor publishes, an actuator subscribes, no
// network involved. Retained messages reach later subscribers.
func ExampleBroker_Subscribe() {
	b, err := broker.New(broker.Options{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	_ = b.Publish(ctx, "sensor", &packet.Publish{Topic: "sensors/kitchen/state", Payload: []byte("ok"), Retain: true})

	unsubscribe, err := b.Subscribe("actuator", "sensors/#", 1, func(p *packet.Publish) {
		fmt.Printf("%s %s retain=%v qos=%d\n", p.Topic, p.Payload, p.Retain, p.QoS)
	})
	if err != nil {
		panic(err)
	}
	defer unsubscribe()
	_ = b.Publish(ctx, "sensor", &packet.Publish{Topic: "sensors/kitchen/temperature", Payload: []byte("21.5"), QoS: 1})
	// Output:
	// sensors/kitchen/state ok retain=true qos=0
	// sensors/kitchen/temperature 21.5 retain=false qos=1
}
