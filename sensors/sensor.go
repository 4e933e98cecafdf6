package sensors

import (
	"context"
	"io"
	"time"

	"go.bug.st/serial"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
)

// Reading is one quantity measured at one time, in the unit it names.
type Reading struct {
	Quantity string    // e.g. "temperature"; the topic suffix
	Value    float64   // in Unit
	Unit     string    // e.g. "°C", "%", "Pa"
	Time     time.Time // when measured; zero means the poller stamps it
}

// Sensor is a device read on demand. Sense is synchronous, honours ctx between
// bus transactions, and returns an error (never a reading) when the device is
// missing or the value is invalid. Halt releases the device; it is safe to call
// twice.
type Sensor interface {
	Sense(ctx context.Context) ([]Reading, error)
	Halt() error
}

// Watcher is implemented by sensors that report changes as they happen (GPIO
// edges). The poller calls Watch once in its own goroutine; Watch blocks until
// ctx is done, calling emit for each change, and returns nil on cancellation.
// Periodic Sense calls continue beside it.
type Watcher interface {
	Watch(ctx context.Context, emit func([]Reading)) error
}

// Actuator is implemented by outputs driven from MQTT (gpio_out). Set receives
// the payload of a message on "<topic>/set" and returns the new state, which is
// published retained on "<topic>/state".
type Actuator interface {
	Set(ctx context.Context, payload []byte) ([]Reading, error)
}

// Follower is implemented by sensors that use other sensors' readings (an
// SGP30 compensating for humidity). The poller subscribes each topic
// Follows lists ("<topic>/<quantity>" of another sensor) and passes each
// reading published there to Follow, from the subscriber's goroutine: Follow
// must be quick and safe to call beside Sense and Watch. Payloads that are
// not readings are dropped.
type Follower interface {
	Follows() []string
	Follow(topic string, r Reading)
}

// Commander is implemented by sensors that take one-off commands that are
// not a value to write, like a CO₂ sensor's forced recalibration. The poller
// subscribes "<topic>/<name>" for each name Commands lists and calls Command
// from its poll loop (never concurrently with Sense) with the payload, under
// the per-read timeout but at least CommandTimeout. Command returns a
// reading describing the outcome (the correction a recalibration applied);
// the poller publishes a SetResult with its value and unit, or the error,
// on "<topic>/<name>/result" (not retained), and counts the command in
// Stats.Commands and, when it failed, Stats.CommandErrors.
type Commander interface {
	Commands() []string
	Command(ctx context.Context, name string, payload []byte) (Reading, error)
}

// CommandTimeout is the least time the poller gives a Commander's Command:
// commands like a recalibration stop and restart the device.
const CommandTimeout = 10 * time.Second

// SerialPort is what serial drivers need from a port: go.bug.st/serial's Port
// satisfies it, and so does a pseudo-terminal wrapper in tests.
type SerialPort interface {
	io.ReadWriteCloser
	SetReadTimeout(t time.Duration) error
}

// Hardware opens the buses and pins drivers use. cmd/gateway owns the real one
// (periph host drivers, shared buses it closes on shutdown); tests pass doubles
// (i2ctest, gpiotest, a pty). A driver never closes an I2C bus it was given.
type Hardware interface {
	I2C(bus string) (i2c.Bus, error)
	GPIO(name string) (gpio.PinIO, error)
	Serial(port string, mode *serial.Mode) (SerialPort, error)
}

// Spec is one entry of the config file's sensors list: the common keys,
// already defaulted and validated, and the driver's own keys in Options.
type Spec struct {
	Name     string
	Driver   string
	Interval time.Duration // between polls
	Timeout  time.Duration // per Sense call
	Topic    string        // readings go to Topic + "/" + quantity
	QoS      byte
	Retain   bool
	Process  map[string]Process // per-quantity processing, keyed by quantity
	Options  Options            // driver-specific keys, with their source lines
	File     string             // config file the entry came from, for errors
	Line     int                // line of the entry in File
	// DataDir is the gateway's data_dir, where drivers keep state that
	// must survive a restart (an SGP30's baseline); "" for none.
	DataDir string
	// Peers are the topics of every configured sensor, by name, for
	// drivers that use another sensor's readings (an SGP30's humidity
	// compensation); nil when unknown.
	Peers map[string]string
}

// TopicOrDefault returns Topic, or "sensors/<Name>" when Topic is empty (the
// poller and Home Assistant discovery both use it).
func (s Spec) TopicOrDefault() string {
	if s.Topic == "" {
		return "sensors/" + s.Name
	}
	return s.Topic
}

// Process is the per-quantity processing a config entry asks for, applied by
// the poller in this order: Value*Scale + Offset, rounded to Round decimals
// (Round < 0: no rounding), then the deadband filter.
type Process struct {
	Scale       float64       // default 1
	Offset      float64       // default 0
	Round       int           // decimals; -1 = keep full precision (default)
	Deadband    float64       // publish only on a change ≥ Deadband (0 = every reading)
	MaxInterval time.Duration // with a deadband: publish at least this often (0 = never forced)
	Unit        string        // overrides the driver's unit when set
}

// Driver makes sensors of one kind. Check validates spec.Options without
// touching hardware (gateway check uses it); Open builds the sensor.
// Quantities, when set, lists what a sensor of spec publishes, without
// touching hardware, so that it can be announced (Home Assistant discovery)
// before its device is even present; nil for drivers that learn their
// quantities from the device (ds18b20 probes, serial JSON fields).
type Driver struct {
	Check      func(spec Spec) error
	Open       func(spec Spec, hw Hardware) (Sensor, error)
	Quantities func(spec Spec) ([]Quantity, error)
}

// Quantity is a quantity a sensor publishes and its unit ("" for none).
type Quantity struct {
	Name string
	Unit string
	// Binary says the value is an on/off level, 1 or 0 (a Modbus coil):
	// Home Assistant discovery announces it as a binary_sensor.
	Binary bool
	// Writable says the quantity is commanded from
	// "<topic>/<quantity>/set" (see QuantitySetter): discovery announces a
	// Binary one as a switch, another as a number from Min to Max in steps
	// of Step (0: Home Assistant's default, 1).
	Writable       bool
	Min, Max, Step float64
}
