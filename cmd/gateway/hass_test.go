package main

import (
	"encoding/json"
	"slices"
	"syscall"
	"testing"
)

// TestGateway_HomeAssistantDiscovery: with homeassistant.discovery on, the
// gateway publishes a retained discovery config per quantity before its
// readings (a subscriber present before the sensor starts, added by a
// reload, sees the config first), pointing Home Assistant at the reading
// topic with its unit, and a client subscribing afterwards still gets it
// (retained).
func TestGateway_HomeAssistantDiscovery(t *testing.T) {
	const ha = "homeassistant: {discovery: true, prefix: ha}\n"
	p := startGateway(t, baseConfig+ha)
	first := connectLocal(t, p, clientOpts{})
	first.sub("ha/#", 0)
	first.sub("sensors/#", 0)
	p.WriteConfig(baseConfig + ha + `sensors:
  - {name: room, driver: sim, interval: 200ms, quantities: [temperature]}
`)
	p.Signal(syscall.SIGHUP)
	first.waitTopic("sensors/room/temperature")
	order := []string{}
	for _, m := range first.messages() {
		order = append(order, m.Topic)
	}
	cfgAt, readingAt := slices.Index(order, "ha/sensor/e2e/room_temperature/config"), slices.Index(order, "sensors/room/temperature")
	if cfgAt < 0 || cfgAt > readingAt {
		t.Errorf("discovery config not before the first reading: %v", order)
	}

	late := connectLocal(t, p, clientOpts{}) // after the first reading: sees the retained config
	late.sub("ha/#", 0)
	m := late.waitTopic("ha/sensor/e2e/room_temperature/config")
	if !m.Retained {
		t.Error("discovery config not retained")
	}
	var cfg struct {
		StateTopic string `json:"state_topic"`
		Unit       string `json:"unit_of_measurement"`
		UniqueID   string `json:"unique_id"`
		Device     struct {
			Identifiers []string `json:"identifiers"`
		} `json:"device"`
	}
	if err := json.Unmarshal(m.Payload, &cfg); err != nil {
		t.Fatalf("discovery payload %q: %v", m.Payload, err)
	}
	if cfg.StateTopic != "sensors/room/temperature" || cfg.Unit != "°C" || cfg.UniqueID == "" || len(cfg.Device.Identifiers) == 0 {
		t.Errorf("discovery config = %+v (payload %s)", cfg, m.Payload)
	}
}

// TestGateway_HomeAssistantDiscovery_atStart: a configured sensor whose
// device is missing (a BME280 on an I²C bus that does not exist) is still
// announced at start, every quantity with its unit, and its status says
// error, so Home Assistant shows the entities unavailable rather than not
// at all.
func TestGateway_HomeAssistantDiscovery_atStart(t *testing.T) {
	p := startGateway(t, baseConfig+`homeassistant: {discovery: true, prefix: ha}
sensors:
  - {name: kitchen, driver: bme280, bus: "99", interval: 1s}
`)
	c := connectLocal(t, p, clientOpts{})
	c.sub("ha/#", 0)
	c.sub("sensors/kitchen/status", 0)
	for q, unit := range map[string]string{"temperature": "°C", "pressure": "hPa", "humidity": "%"} {
		m := c.waitTopic("ha/sensor/e2e/kitchen_" + q + "/config")
		var cfg struct {
			Unit string `json:"unit_of_measurement"`
		}
		if err := json.Unmarshal(m.Payload, &cfg); err != nil || cfg.Unit != unit || !m.Retained {
			t.Errorf("%s config = %s (retained %v), want unit %q", q, m.Payload, m.Retained, unit)
		}
	}
	if m := c.waitTopic("sensors/kitchen/status"); stateOf(m.Payload) != "error" {
		t.Errorf("status = %s, want state error", m.Payload)
	}
}
