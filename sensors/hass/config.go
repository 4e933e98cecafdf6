package hass

// config is the JSON of one discovery message (Home Assistant's MQTT
// sensor, binary_sensor, switch and number platforms).
type config struct {
	Name          string         `json:"name"`
	UniqueID      string         `json:"unique_id"`
	StateTopic    string         `json:"state_topic"`
	CommandTopic  string         `json:"command_topic,omitempty"`
	ValueTemplate string         `json:"value_template"`
	Unit          string         `json:"unit_of_measurement,omitempty"`
	DeviceClass   string         `json:"device_class,omitempty"`
	StateClass    string         `json:"state_class,omitempty"`
	PayloadOn     string         `json:"payload_on,omitempty"`
	PayloadOff    string         `json:"payload_off,omitempty"`
	StateOn       string         `json:"state_on,omitempty"`
	StateOff      string         `json:"state_off,omitempty"`
	Min           *float64       `json:"min,omitempty"`
	Max           *float64       `json:"max,omitempty"`
	Step          float64        `json:"step,omitempty"`
	Mode          string         `json:"mode,omitempty"`
	QoS           byte           `json:"qos"`
	Availability  []availability `json:"availability"`
	Device        device         `json:"device"`
	Origin        origin         `json:"origin"`
}

type availability struct {
	Topic               string `json:"topic"`
	ValueTemplate       string `json:"value_template"`
	PayloadAvailable    string `json:"payload_available"`
	PayloadNotAvailable string `json:"payload_not_available"`
}

type device struct {
	Identifiers  []string `json:"identifiers"`
	Name         string   `json:"name"`
	Model        string   `json:"model"`
	Manufacturer string   `json:"manufacturer"`
	SWVersion    string   `json:"sw_version,omitempty"`
}

type origin struct {
	Name      string `json:"name"`
	SWVersion string `json:"sw_version,omitempty"`
}
