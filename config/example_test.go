package config_test

import (
	"fmt"

	"github.com/edgegw/edgegw/config"
)

// Parse reports every problem at once, each with file, line and key path.
func ExampleParse() {
	_, err := config.Parse("gateway.yaml", []byte(`
gateway: {id: pi-kitchen}
broker:
  listeners:
    - address: 127.0.0.1:1883
    - address: 127.0.0.1:9001
      websocket: {path: mqtt}
  limits: {max_packet_size: 1MB, max_inflght: 64}
sensors:
  - {name: kitchen, driver: bme280, address: 0x76, qos: 3}
`))
	for _, e := range config.Errors(err) {
		fmt.Println(e)
	}
	// Output:
	// gateway.yaml:7: broker.listeners[1].websocket.path: "mqtt" must start with /
	// gateway.yaml:8: broker.limits.max_inflght: unknown key (did you mean "max_inflight"?)
	// gateway.yaml:10: sensors[0].qos: 3 is not a QoS: want 0, 1 or 2
}

// Defaults fill what the file leaves out; driver options come through raw.
func ExampleConfig_Summary() {
	c, err := config.Parse("gateway.yaml", []byte(`
gateway: {id: pi-kitchen}
bridge:
  addresses: ["mqtts://upstream.example"]
  topics: [{pattern: "sensors/#", remote_prefix: "gateways/pi-kitchen/"}]
sensors:
  - {name: kitchen, driver: bme280, address: 0x76}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Summary())
	fmt.Println(c.Bridge.Addresses[0], c.Bridge.ClientID, c.Monitor.TopicPrefix)
	s := c.Sensors[0]
	fmt.Println(s.Topic, s.Interval, s.Timeout, s.Options["address"].Value)
	// Output:
	// config ok: gateway pi-kitchen, 1 listener, bridge to 1 address with 1 rule, 1 sensor
	// tls://upstream.example:8883 pi-kitchen gateways/pi-kitchen
	// sensors/kitchen 10s 5s 118
}
