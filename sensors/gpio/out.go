package gpio

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"

	"github.com/edgegw/edgegw/sensors"
)

// ErrPayload is returned by Set for a payload that is not an on/off word.
var ErrPayload = errors.New("gpio: payload must be on, off, 1, 0, true or false")

// maxPayloadEcho bounds how much of a bad payload an error quotes.
const maxPayloadEcho = 32

// OutConfig configures an output pin.
type OutConfig struct {
	Initial gpio.Level // driven by NewOut
	Safe    gpio.Level // driven by Halt
}

// Out is a digital output: a sensors.Sensor and sensors.Actuator.
type Out struct {
	pin gpio.PinIO
	cfg OutConfig

	mu      sync.Mutex // serialises Out calls; guards level and halted
	level   gpio.Level
	halted  bool
	haltErr error
}

var (
	_ sensors.Sensor   = (*Out)(nil)
	_ sensors.Actuator = (*Out)(nil)
)

// NewOut drives pin to cfg.Initial and returns it as an actuator.
func NewOut(pin gpio.PinIO, cfg OutConfig) (*Out, error) {
	if err := pin.Out(cfg.Initial); err != nil {
		return nil, fmt.Errorf("gpio: %s: drive %s: %w", pin, levelWord(cfg.Initial), err)
	}
	return &Out{pin: pin, cfg: cfg, level: cfg.Initial}, nil
}

// String names the pin.
func (o *Out) String() string { return o.pin.String() }

// Sense returns "state", the level last driven. It does not read the pin
// back: periph's gpioioctl Read turns an output line into an input.
func (o *Out) Sense(ctx context.Context) ([]sensors.Reading, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.halted {
		return nil, ErrHalted
	}
	return stateReading(o.level), nil
}

// Set drives the pin to the level payload names (see ParseLevel) and returns
// the new "state". Any other payload is ErrPayload and leaves the pin as it
// was.
func (o *Out) Set(ctx context.Context, payload []byte) ([]sensors.Reading, error) {
	level, ok := ParseLevel(string(payload))
	if !ok {
		return nil, fmt.Errorf("%w, got %q", ErrPayload, truncate(payload))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.halted {
		return nil, ErrHalted
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gpio: %w", err)
	}
	if err := o.pin.Out(level); err != nil {
		return nil, fmt.Errorf("gpio: %s: drive %s: %w", o.pin, levelWord(level), err)
	}
	o.level = level
	return stateReading(level), nil
}

// Halt drives the safe level; Sense and Set fail afterwards. It is safe to
// call twice and returns the first result.
func (o *Out) Halt() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.halted {
		return o.haltErr
	}
	o.halted = true
	if err := o.pin.Out(o.cfg.Safe); err != nil {
		o.haltErr = fmt.Errorf("gpio: %s: drive safe level %s: %w", o.pin, levelWord(o.cfg.Safe), err)
		return o.haltErr
	}
	o.level = o.cfg.Safe
	return nil
}

//

func stateReading(l gpio.Level) []sensors.Reading {
	return []sensors.Reading{{Quantity: "state", Value: levelValue(l)}}
}

func truncate(b []byte) string {
	if len(b) > maxPayloadEcho {
		return string(b[:maxPayloadEcho]) + "…"
	}
	return string(b)
}
