package hass_test

import (
	"fmt"
	"log"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/hass"
)

func ExampleDiscovery() {
	msgs, err := hass.Discovery(hass.DefaultPrefix,
		hass.Gateway{ID: "pi-kitchen", Version: "1.0.0"},
		[]hass.Sensor{
			{Spec: sensors.Spec{Name: "kitchen", Driver: "bme280"}, Quantities: []hass.Quantity{
				{Name: "temperature", Unit: "°C"}, {Name: "humidity", Unit: "%"},
			}},
			{Spec: sensors.Spec{Name: "relay", Driver: "gpio_out"}},
		})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range msgs {
		fmt.Println(m.Topic, m.Retain)
	}
	// Output:
	// homeassistant/sensor/pi-kitchen/kitchen_temperature/config true
	// homeassistant/sensor/pi-kitchen/kitchen_humidity/config true
	// homeassistant/switch/pi-kitchen/relay_state/config true
}
