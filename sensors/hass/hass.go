// Package hass builds Home Assistant MQTT discovery messages for the
// gateway's sensors, so that they appear in Home Assistant without YAML.
//
// Each quantity becomes one entity, configured by a retained message on
// "<prefix>/<component>/<gateway_id>/<sensor>_<quantity>/config" (prefix
// "homeassistant" by default). Numeric quantities are "sensor" entities
// reading "<topic>/<quantity>" with value_template {{ value_json.value }},
// a unit, a device_class when the quantity's name or unit says which, and
// state_class measurement (total_increasing for energy and counts). A gpio_in
// sensor's "state" and a Binary quantity (a Modbus coil) are binary_sensor
// entities; a gpio_out sensor is one switch commanded on "<topic>/set" with
// payloads "1" and "0", its state read from "<topic>/state". A Writable
// quantity (a Modbus coil or holding register marked writable) is commanded
// on "<topic>/<quantity>/set": a Binary one is a switch (payloads "ON" and
// "OFF"), another a number entity with the quantity's Min, Max and Step,
// its state read from "<topic>/<quantity>". Every entity is
// available while "<topic>/status" says {"state":"ok"}, unavailable when it
// says "error" or "offline" (the gateway stopped cleanly), and belongs to one
// device, the gateway.
//
// Discovery is pure: it returns the messages and publishes nothing. For
// quantities known only once readings arrive (every probe of a ds18b20 bus,
// the fields of a JSON serial sensor), Announcer publishes each entity's
// config the first time its quantity is published.
package hass

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/edgegw/edgegw/sensors"
)

// DefaultPrefix is Home Assistant's default discovery prefix.
const DefaultPrefix = "homeassistant"

// Message is one discovery message to publish.
type Message struct {
	Topic   string
	Payload []byte
	Retain  bool
}

// Gateway describes the device every entity belongs to.
type Gateway struct {
	ID      string // gateway.id; required
	Name    string // shown in Home Assistant; default ID
	Version string // firmware version (sw_version)
}

// Quantity is one quantity of a sensor and the unit its driver reports; a
// unit in the spec's Process for that quantity overrides it.
type Quantity = sensors.Quantity

// Sensor is a configured sensor and its quantities.
type Sensor struct {
	Spec       sensors.Spec
	Quantities []Quantity
}

// Discovery returns the retained config messages for every quantity of
// every sensor, in order, under prefix ("" means DefaultPrefix).
func Discovery(prefix string, gw Gateway, ss []Sensor) ([]Message, error) {
	if gw.ID == "" {
		return nil, errors.New("hass: gateway id is empty")
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	var out []Message
	for _, s := range ss {
		msgs, err := sensorMessages(prefix, gw, s)
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
	}
	return out, nil
}

//

// Drivers whose sensors are binary inputs and switchable outputs, and the
// quantity that holds their level (a gpio_in counter's "count" and "rate"
// are numbers).
const (
	driverGPIOIn  = "gpio_in"
	driverGPIOOut = "gpio_out"
	gpioState     = "state"
)

// The templates and payloads of on/off entities: any non-zero value is on.
const (
	onOffTemplate = "{{ 'ON' if value_json.value else 'OFF' }}"
	valueTemplate = "{{ value_json.value }}"
)

func sensorMessages(prefix string, gw Gateway, s Sensor) ([]Message, error) {
	if s.Spec.Name == "" {
		return nil, errors.New("hass: sensor without a name")
	}
	if s.Spec.Driver == driverGPIOOut {
		q := "state"
		if len(s.Quantities) > 0 {
			q = s.Quantities[0].Name
		}
		m, err := message(prefix, "switch", gw, s.Spec, q, switchConfig(s.Spec))
		return []Message{m}, err
	}
	var out []Message
	for _, q := range s.Quantities {
		if err := sensors.ValidQuantity(q.Name); err != nil {
			return nil, fmt.Errorf("hass: sensor %q: %w", s.Spec.Name, err)
		}
		component, cfg := "sensor", sensorConfig(s.Spec, q)
		switch {
		case q.Writable && q.Binary:
			component, cfg = "switch", writableSwitchConfig(s.Spec, q)
		case q.Writable:
			component, cfg = "number", numberConfig(s.Spec, q)
		case q.Binary || s.Spec.Driver == driverGPIOIn && q.Name == gpioState:
			component, cfg = "binary_sensor", binaryConfig(s.Spec, q)
		}
		m, err := message(prefix, component, gw, s.Spec, q.Name, cfg)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// availabilityTemplate maps <topic>/status to Home Assistant's availability:
// "ok" is available; "error" (the device fails) and "offline" (the gateway
// stopped) are not.
const availabilityTemplate = "{{ 'online' if value_json.state == '" + sensors.StateOK + "' else 'offline' }}"

// message completes cfg with what every entity shares and encodes it.
func message(prefix, component string, gw Gateway, spec sensors.Spec, q string, cfg config) (Message, error) {
	object := sanitize(spec.Name) + "_" + sanitize(q)
	node := sanitize(gw.ID)
	cfg.UniqueID = node + "_" + object
	cfg.Availability = []availability{{
		Topic:               spec.TopicOrDefault() + "/status",
		ValueTemplate:       availabilityTemplate,
		PayloadAvailable:    "online",
		PayloadNotAvailable: "offline",
	}}
	cfg.QoS = spec.QoS
	cfg.Device = gatewayDevice(gw)
	cfg.Origin = origin{Name: "edgegw", SWVersion: gw.Version}
	b, err := json.Marshal(cfg)
	if err != nil {
		return Message{}, fmt.Errorf("hass: %s: %w", object, err)
	}
	return Message{Topic: strings.Join([]string{prefix, component, node, object, "config"}, "/"), Payload: b, Retain: true}, nil
}

func sensorConfig(spec sensors.Spec, q Quantity) config {
	unit := q.Unit
	if p, ok := spec.Process[q.Name]; ok && p.Unit != "" {
		unit = p.Unit
	}
	class := deviceClass(q.Name, unit)
	return config{
		Name:          spec.Name + " " + q.Name,
		StateTopic:    spec.TopicOrDefault() + "/" + q.Name,
		ValueTemplate: valueTemplate,
		Unit:          unit,
		DeviceClass:   class,
		StateClass:    stateClass(q.Name, class),
	}
}

func binaryConfig(spec sensors.Spec, q Quantity) config {
	return config{
		Name:          spec.Name + " " + q.Name,
		StateTopic:    spec.TopicOrDefault() + "/" + q.Name,
		ValueTemplate: onOffTemplate,
		PayloadOn:     "ON",
		PayloadOff:    "OFF",
	}
}

// writableSwitchConfig is a writable binary quantity's switch: "ON" and
// "OFF" on "<topic>/<quantity>/set", which the poller reads as 1 and 0.
func writableSwitchConfig(spec sensors.Spec, q Quantity) config {
	cfg := binaryConfig(spec, q)
	cfg.CommandTopic = cfg.StateTopic + "/set"
	cfg.StateOn, cfg.StateOff = "ON", "OFF"
	return cfg
}

// numberConfig is a writable quantity's number entity, its range and step
// those of the quantity (in published units).
func numberConfig(spec sensors.Spec, q Quantity) config {
	cfg := sensorConfig(spec, q)
	cfg.CommandTopic = cfg.StateTopic + "/set"
	cfg.StateClass = ""
	cfg.Min, cfg.Max, cfg.Step, cfg.Mode = &q.Min, &q.Max, q.Step, "box"
	if rule, ok := spec.Process[q.Name]; ok { // the poller applies it to both ends
		lo, hi := rule.Apply(q.Min), rule.Apply(q.Max)
		cfg.Min, cfg.Max = &lo, &hi
		if *cfg.Min > *cfg.Max {
			cfg.Min, cfg.Max = cfg.Max, cfg.Min
		}
		if rule.Scale != 0 {
			cfg.Step = math.Abs(q.Step * rule.Scale)
		}
	}
	return cfg
}

func switchConfig(spec sensors.Spec) config {
	base := spec.TopicOrDefault()
	return config{
		Name:          spec.Name,
		StateTopic:    base + "/state",
		CommandTopic:  base + "/set",
		ValueTemplate: onOffTemplate,
		PayloadOn:     "1",
		PayloadOff:    "0",
		StateOn:       "ON",
		StateOff:      "OFF",
	}
}

func gatewayDevice(gw Gateway) device {
	name := gw.Name
	if name == "" {
		name = gw.ID
	}
	return device{
		Identifiers:  []string{"edgegw_" + sanitize(gw.ID)},
		Name:         name,
		Model:        "edgegw",
		Manufacturer: "edgegw",
		SWVersion:    gw.Version,
	}
}

// sanitize keeps what discovery topic levels and ids allow: ASCII letters,
// digits, '_' and '-'; anything else becomes '_'.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, s)
}
