package hass_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/hass"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

var gw = hass.Gateway{ID: "pi-kitchen", Version: "1.2.3"}

// entity is the subset of a discovery payload the tests read.
type entity struct {
	Name          string `json:"name"`
	UniqueID      string `json:"unique_id"`
	StateTopic    string `json:"state_topic"`
	CommandTopic  string `json:"command_topic"`
	ValueTemplate string `json:"value_template"`
	Unit          string `json:"unit_of_measurement"`
	DeviceClass   string `json:"device_class"`
	StateClass    string `json:"state_class"`
	PayloadOn     string `json:"payload_on"`
	PayloadOff    string `json:"payload_off"`
	StateOn       string `json:"state_on"`
	StateOff      string `json:"state_off"`
	QoS           int    `json:"qos"`
	Availability  []struct {
		Topic               string `json:"topic"`
		ValueTemplate       string `json:"value_template"`
		PayloadAvailable    string `json:"payload_available"`
		PayloadNotAvailable string `json:"payload_not_available"`
	} `json:"availability"`
	Device struct {
		Identifiers []string `json:"identifiers"`
		Name        string   `json:"name"`
		Model       string   `json:"model"`
		SWVersion   string   `json:"sw_version"`
	} `json:"device"`
}

func decode(t *testing.T, m hass.Message) entity {
	t.Helper()
	var e entity
	if err := (sensorstest.Message{Payload: m.Payload}).Decode(&e); err != nil {
		t.Fatalf("%s: %v in %s", m.Topic, err, m.Payload)
	}
	if !m.Retain {
		t.Errorf("%s is not retained", m.Topic)
	}
	return e
}

func byTopic(t *testing.T, msgs []hass.Message) map[string]entity {
	t.Helper()
	out := map[string]entity{}
	for _, m := range msgs {
		out[m.Topic] = decode(t, m)
	}
	if len(out) != len(msgs) {
		t.Errorf("duplicate discovery topics in %d messages", len(msgs))
	}
	return out
}

func TestDiscovery_sensor(t *testing.T) {
	spec := sensors.Spec{Name: "kitchen", Driver: "bme280", Topic: "sensors/kitchen", QoS: 1,
		Process: map[string]sensors.Process{"pressure": {Scale: 0.01, Round: 1, Unit: "hPa"}}}
	msgs, err := hass.Discovery("", gw, []hass.Sensor{{Spec: spec, Quantities: []hass.Quantity{
		{Name: "temperature", Unit: "°C"}, {Name: "humidity", Unit: "%"}, {Name: "pressure", Unit: "Pa"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	es := byTopic(t, msgs)
	e, ok := es["homeassistant/sensor/pi-kitchen/kitchen_temperature/config"]
	if !ok {
		t.Fatalf("no temperature config among %v", es)
	}
	if e.Name != "kitchen temperature" || e.UniqueID != "pi-kitchen_kitchen_temperature" ||
		e.StateTopic != "sensors/kitchen/temperature" || e.ValueTemplate != "{{ value_json.value }}" ||
		e.Unit != "°C" || e.DeviceClass != "temperature" || e.StateClass != "measurement" || e.QoS != 1 {
		t.Errorf("temperature entity = %+v", e)
	}
	if len(e.Availability) != 1 {
		t.Fatalf("availability = %+v", e.Availability)
	}
	if a := e.Availability[0]; a.Topic != "sensors/kitchen/status" || a.ValueTemplate != "{{ 'online' if value_json.state == 'ok' else 'offline' }}" ||
		a.PayloadAvailable != "online" || a.PayloadNotAvailable != "offline" {
		t.Errorf("availability = %+v", a)
	}
	if d := e.Device; len(d.Identifiers) != 1 || d.Identifiers[0] != "edgegw_pi-kitchen" || d.Name != "pi-kitchen" ||
		d.Model != "edgegw" || d.SWVersion != "1.2.3" {
		t.Errorf("device = %+v", d)
	}
	if h := es["homeassistant/sensor/pi-kitchen/kitchen_humidity/config"]; h.DeviceClass != "humidity" || h.Unit != "%" {
		t.Errorf("humidity entity = %+v", h)
	}
	// The spec's Process turns Pa into hPa: the entity must say hPa.
	if p := es["homeassistant/sensor/pi-kitchen/kitchen_pressure/config"]; p.DeviceClass != "pressure" || p.Unit != "hPa" {
		t.Errorf("pressure entity = %+v", p)
	}
}

func TestDiscovery_deviceClass(t *testing.T) {
	tests := []struct{ quantity, unit, class, stateClass string }{
		{"temperature", "°F", "temperature", "measurement"},
		{"28-0316a2794bff", "°C", "temperature", "measurement"}, // a ds18b20 probe: by unit
		{"voltage", "V", "voltage", "measurement"},
		{"current", "A", "current", "measurement"},
		{"power", "W", "power", "measurement"},
		{"co2", "ppm", "carbon_dioxide", "measurement"},
		{"lux", "lx", "illuminance", "measurement"},
		{"energy", "kWh", "energy", "total_increasing"},
		{"import_energy", "kWh", "energy", "total_increasing"}, // a Modbus meter's register: by unit
		{"frequency", "Hz", "frequency", "measurement"},
		{"apparent_power", "VA", "apparent_power", "measurement"},
		{"reactive", "var", "reactive_power", "measurement"},
		{"power_factor", "", "power_factor", "measurement"},
		{"speed", "km/h", "speed", "measurement"},
		{"altitude", "m", "distance", "measurement"},
		{"humidity", "g/m³", "", "measurement"}, // unit HA refuses for humidity: no class
		{"latitude", "°", "", "measurement"},
		{"satellites", "", "", "measurement"},
		{"concentration", "ppm", "", "measurement"},                        // ppm alone says nothing
		{"tvoc", "ppb", "volatile_organic_compounds_parts", "measurement"}, // sgp30
		{"eco2", "ppm", "carbon_dioxide", "measurement"},                   // sgp30
		{"pm25", "µg/m³", "pm25", "measurement"},                           // pms5003
		{"illuminance", "lx", "illuminance", "measurement"},                // bh1750
		{"shunt_voltage", "mV", "voltage", "measurement"},                  // ina219: by unit
		{"ain0", "V", "voltage", "measurement"},                            // ads1x15: by unit
	}
	for _, tt := range tests {
		t.Run(tt.quantity, func(t *testing.T) {
			msgs, err := hass.Discovery("ha", gw, []hass.Sensor{{
				Spec:       sensors.Spec{Name: "s"},
				Quantities: []hass.Quantity{{Name: tt.quantity, Unit: tt.unit}},
			}})
			if err != nil || len(msgs) != 1 {
				t.Fatalf("Discovery = %v, %v", msgs, err)
			}
			e := decode(t, msgs[0])
			if e.DeviceClass != tt.class || e.StateClass != tt.stateClass || e.Unit != tt.unit {
				t.Errorf("class/state_class/unit = %q/%q/%q, want %q/%q/%q",
					e.DeviceClass, e.StateClass, e.Unit, tt.class, tt.stateClass, tt.unit)
			}
			if !strings.HasPrefix(msgs[0].Topic, "ha/sensor/pi-kitchen/s_") {
				t.Errorf("topic %s ignores the prefix", msgs[0].Topic)
			}
		})
	}
}

func TestDiscovery_gpio(t *testing.T) {
	msgs, err := hass.Discovery("", gw, []hass.Sensor{
		{Spec: sensors.Spec{Name: "door", Driver: "gpio_in", Topic: "home/door"}, Quantities: []hass.Quantity{{Name: "state"}}},
		{Spec: sensors.Spec{Name: "meter", Driver: "gpio_in"}, Quantities: []hass.Quantity{{Name: "count"}, {Name: "rate", Unit: "/s"}}},
		{Spec: sensors.Spec{Name: "pump", Driver: "gpio_out"}, Quantities: []hass.Quantity{{Name: "state"}}},
		{Spec: sensors.Spec{Name: "plc", Driver: "modbus"}, Quantities: []hass.Quantity{{Name: "alarm", Binary: true}, {Name: "level"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	es := byTopic(t, msgs)
	if alarm, ok := es["homeassistant/binary_sensor/pi-kitchen/plc_alarm/config"]; !ok || alarm.StateTopic != "sensors/plc/alarm" || alarm.PayloadOn != "ON" {
		t.Errorf("a binary quantity (a Modbus coil): %+v, want a binary_sensor on sensors/plc/alarm", alarm)
	}
	if _, ok := es["homeassistant/sensor/pi-kitchen/plc_level/config"]; !ok {
		t.Errorf("a numeric Modbus register: no sensor among %v", es)
	}
	door, ok := es["homeassistant/binary_sensor/pi-kitchen/door_state/config"]
	if !ok {
		t.Fatalf("no binary_sensor among %v", es)
	}
	if count := es["homeassistant/sensor/pi-kitchen/meter_count/config"]; count.StateClass != "total_increasing" ||
		count.StateTopic != "sensors/meter/count" {
		t.Errorf("counter = %+v, want a numeric total_increasing sensor", count)
	}
	if rate := es["homeassistant/sensor/pi-kitchen/meter_rate/config"]; rate.Unit != "/s" || rate.StateClass != "measurement" {
		t.Errorf("rate = %+v", rate)
	}
	if door.StateTopic != "home/door/state" || door.PayloadOn != "ON" || door.PayloadOff != "OFF" ||
		!strings.Contains(door.ValueTemplate, "value_json.value") || door.StateClass != "" || door.Unit != "" ||
		door.Availability[0].Topic != "home/door/status" {
		t.Errorf("door = %+v", door)
	}
	pump, ok := es["homeassistant/switch/pi-kitchen/pump_state/config"]
	if !ok {
		t.Fatalf("no switch among %v", es)
	}
	if pump.CommandTopic != "sensors/pump/set" || pump.StateTopic != "sensors/pump/state" ||
		pump.PayloadOn != "1" || pump.PayloadOff != "0" || pump.StateOn != "ON" || pump.StateOff != "OFF" ||
		pump.Name != "pump" || pump.UniqueID != "pi-kitchen_pump_state" {
		t.Errorf("pump = %+v", pump)
	}
}

func TestDiscovery_sanitize(t *testing.T) {
	msgs, err := hass.Discovery("", hass.Gateway{ID: "pi.kitchen #2"}, []hass.Sensor{{
		Spec: sensors.Spec{Name: "living room"}, Quantities: []hass.Quantity{{Name: "pm2.5", Unit: "µg/m³"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := msgs[0].Topic; got != "homeassistant/sensor/pi_kitchen__2/living_room_pm2_5/config" {
		t.Errorf("topic = %s", got)
	}
	if e := decode(t, msgs[0]); e.StateTopic != "sensors/living room/pm2.5" || e.Device.Name != "pi.kitchen #2" {
		t.Errorf("entity = %+v: state topic and names keep their spelling", e)
	}
}

func TestDiscovery_errors(t *testing.T) {
	ok := []hass.Sensor{{Spec: sensors.Spec{Name: "s"}, Quantities: []hass.Quantity{{Name: "t"}}}}
	if _, err := hass.Discovery("", hass.Gateway{}, ok); err == nil {
		t.Error("empty gateway id accepted")
	}
	if _, err := hass.Discovery("", gw, []hass.Sensor{{Spec: sensors.Spec{Name: ""}}}); err == nil {
		t.Error("nameless sensor accepted")
	}
	bad := []hass.Sensor{{Spec: sensors.Spec{Name: "s"}, Quantities: []hass.Quantity{{Name: "a/b"}}}}
	if _, err := hass.Discovery("", gw, bad); !errors.Is(err, sensors.ErrBadQuantity) {
		t.Errorf("bad quantity: %v", err)
	}
}

func TestAnnouncer_Publish(t *testing.T) {
	pub := &sensorstest.Publisher{}
	spec := sensors.Spec{Name: "tank", Driver: "ds18b20", Topic: "sensors/tank", QoS: 1}
	a := hass.NewAnnouncer(pub, "", gw, spec)
	ctx := t.Context()
	reading := []byte(`{"value":21.5,"unit":"°C","ts":"2026-11-22T10:00:00.000Z"}`)
	a.Publish(ctx, "sensors/tank/status", []byte(`{"state":"ok"}`), 1, true)
	a.Publish(ctx, "sensors/tank/28-0316a2794bff", reading, 1, false)
	a.Publish(ctx, "sensors/tank/28-0316a2794bff", reading, 1, false)
	pub.SetErr(errors.New("fake: broker closed"))
	if err := a.Publish(ctx, "sensors/tank/28-000005e2fdc3", reading, 1, false); err == nil {
		t.Error("failed publish: no error")
	}
	pub.SetErr(nil)
	a.Publish(ctx, "sensors/tank/28-000005e2fdc3", reading, 1, false) // announced now

	checkTopics(t, pub,
		"sensors/tank/status",
		"homeassistant/sensor/pi-kitchen/tank_28-0316a2794bff/config",
		"sensors/tank/28-0316a2794bff",
		"sensors/tank/28-0316a2794bff",
		"homeassistant/sensor/pi-kitchen/tank_28-000005e2fdc3/config",
		"sensors/tank/28-000005e2fdc3",
	)
	m := pub.Messages()[1]
	if e := decode(t, hass.Message{Topic: m.Topic, Payload: m.Payload, Retain: m.Retain}); e.DeviceClass != "temperature" || e.Unit != "°C" || m.QoS != 1 {
		t.Errorf("announced %+v (qos %d), want a temperature in °C at the spec's QoS", e, m.QoS)
	}
}

// TestAnnouncer_AnnounceQuantities: known quantities are announced at once
// with their units, and their readings do not announce them again.
func TestAnnouncer_AnnounceQuantities(t *testing.T) {
	pub := &sensorstest.Publisher{}
	spec := sensors.Spec{Name: "env", Driver: "bme280", Topic: "sensors/env", QoS: 1}
	a := hass.NewAnnouncer(pub, "", gw, spec)
	ctx := t.Context()
	if err := a.AnnounceQuantities(ctx, []sensors.Quantity{{Name: "temperature", Unit: "°C"}, {Name: "pressure", Unit: "hPa"}}); err != nil {
		t.Fatal(err)
	}
	a.Publish(ctx, "sensors/env/temperature", []byte(`{"value":21.5,"unit":"°C"}`), 1, false)
	checkTopics(t, pub,
		"homeassistant/sensor/pi-kitchen/env_temperature/config",
		"homeassistant/sensor/pi-kitchen/env_pressure/config",
		"sensors/env/temperature",
	)
	m := pub.Messages()[1]
	if e := decode(t, hass.Message{Topic: m.Topic, Payload: m.Payload, Retain: m.Retain}); e.Unit != "hPa" || !m.Retain || m.QoS != 1 {
		t.Errorf("announced %+v (retain %v, qos %d), want hPa, retained, at the spec's QoS", e, m.Retain, m.QoS)
	}
}

// checkTopics fails the test unless pub recorded messages on exactly want,
// in order.
func checkTopics(t *testing.T, pub *sensorstest.Publisher, want ...string) {
	t.Helper()
	var topics []string
	for _, m := range pub.Messages() {
		topics = append(topics, m.Topic)
	}
	if strings.Join(topics, "\n") != strings.Join(want, "\n") {
		t.Fatalf("published\n%s\nwant\n%s", strings.Join(topics, "\n"), strings.Join(want, "\n"))
	}
}

// TestAnnouncer_poller: behind a real poller, each entity's config goes out
// before its first reading and only once.
func TestAnnouncer_poller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		spec := sensors.Spec{Name: "demo", Driver: "sim", Interval: time.Second, Topic: "sensors/demo"}
		s := sensorstest.NewSensor(sensorstest.Step{Readings: []sensors.Reading{
			{Quantity: "temperature", Value: 20, Unit: "°C"}, {Quantity: "humidity", Value: 50, Unit: "%"},
		}})
		pub := &sensorstest.Publisher{}
		p := sensors.NewPoller(spec, s, hass.NewAnnouncer(pub, "", gw, spec), sensors.PollerOptions{})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		time.Sleep(2500 * time.Millisecond)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		first := map[string]int{}
		for i, m := range pub.Messages() {
			if _, seen := first[m.Topic]; !seen {
				first[m.Topic] = i
			}
		}
		for _, q := range []string{"temperature", "humidity"} {
			cfg := "homeassistant/sensor/pi-kitchen/demo_" + q + "/config"
			ci, ok := first[cfg]
			if !ok || ci > first["sensors/demo/"+q] || len(pub.Topic(cfg)) != 1 {
				t.Errorf("%s: config at %d (%d times), first reading at %d", q, ci, len(pub.Topic(cfg)), first["sensors/demo/"+q])
			}
		}
		if n := len(pub.Topic("sensors/demo/temperature")); n != 3 {
			t.Errorf("temperature readings = %d, want 3", n)
		}
	})
}

func TestAnnouncer_gpio(t *testing.T) {
	ctx := t.Context()
	pub := &sensorstest.Publisher{}
	out := hass.NewAnnouncer(pub, "", gw, sensors.Spec{Name: "pump", Driver: "gpio_out"})
	out.Publish(ctx, "sensors/pump/status", []byte(`{"state":"ok"}`), 0, true)
	out.Publish(ctx, "sensors/pump/state", []byte(`{"value":1}`), 0, true)
	in := hass.NewAnnouncer(pub, "", gw, sensors.Spec{Name: "door", Driver: "gpio_in"})
	in.Publish(ctx, "sensors/door/state", []byte(`{"value":0,"unit":""}`), 0, false)
	in.Publish(ctx, "sensors/door/set", []byte(`1`), 0, false) // not a quantity
	var configs []string
	for _, m := range pub.Messages() {
		if strings.HasSuffix(m.Topic, "/config") {
			configs = append(configs, m.Topic)
		}
	}
	want := "homeassistant/switch/pi-kitchen/pump_state/config homeassistant/binary_sensor/pi-kitchen/door_state/config"
	if strings.Join(configs, " ") != want {
		t.Errorf("configs = %v, want %s", configs, want)
	}
}

// TestDiscovery_writable: a writable holding register is a number entity
// and a writable coil a switch, both commanded on <topic>/<quantity>/set;
// a read-only coil stays a binary_sensor.
func TestDiscovery_writable(t *testing.T) {
	spec := sensors.Spec{Name: "boiler", Driver: "modbus", Topic: "sensors/boiler", QoS: 1}
	msgs, err := hass.Discovery("", gw, []hass.Sensor{{Spec: spec, Quantities: []hass.Quantity{
		{Name: "setpoint", Unit: "°C", Writable: true, Min: -3276.8, Max: 3276.7, Step: 0.1},
		{Name: "pump", Binary: true, Writable: true},
		{Name: "alarm", Binary: true},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	es := byTopic(t, msgs)
	num, ok := es["homeassistant/number/pi-kitchen/boiler_setpoint/config"]
	if !ok {
		t.Fatalf("no number entity in %v", msgs)
	}
	var raw struct {
		Min, Max, Step float64
		Mode           string
	}
	for _, m := range msgs {
		if strings.Contains(m.Topic, "/number/") {
			if err := (sensorstest.Message{Payload: m.Payload}).Decode(&raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	if num.CommandTopic != "sensors/boiler/setpoint/set" || num.StateTopic != "sensors/boiler/setpoint" ||
		num.Unit != "°C" || num.ValueTemplate != "{{ value_json.value }}" || num.StateClass != "" ||
		raw.Min != -3276.8 || raw.Max != 3276.7 || raw.Step != 0.1 || raw.Mode != "box" {
		t.Errorf("number entity %+v %+v", num, raw)
	}
	sw, ok := es["homeassistant/switch/pi-kitchen/boiler_pump/config"]
	if !ok || sw.CommandTopic != "sensors/boiler/pump/set" || sw.StateTopic != "sensors/boiler/pump" ||
		sw.PayloadOn != "ON" || sw.PayloadOff != "OFF" || sw.StateOn != "ON" || sw.StateOff != "OFF" {
		t.Errorf("switch entity %+v (found %v)", sw, ok)
	}
	if bs, ok := es["homeassistant/binary_sensor/pi-kitchen/boiler_alarm/config"]; !ok || bs.CommandTopic != "" {
		t.Errorf("read-only coil: %+v (found %v)", bs, ok)
	}
}
