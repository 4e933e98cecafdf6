package main

import (
	"encoding/json"
	"testing"
)

// TestGateway_HomeAssistantDiscovery: with homeassistant.discovery on, the
// gateway publishes a retained discovery config per quantity before its
// readings, pointing Home Assistant at the reading topic with its unit, and
// a client subscribing afterwards still gets it (retained).
func TestGateway_HomeAssistantDiscovery(t *testing.T) {
	p := startGateway(t, baseConfig+`homeassistant: {discovery: true, prefix: ha}
sensors:
  - {name: room, driver: sim, interval: 200ms, quantities: [temperature]}
`)
	first := connectLocal(t, p, clientOpts{})
	first.sub("sensors/#", 0)
	first.waitTopic("sensors/room/temperature")

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
