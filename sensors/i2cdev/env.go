package i2cdev

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/physic"

	"github.com/edgegw/edgegw/sensors"
)

// EnvSensor is a sensors.Sensor around a periph driver that measures
// temperature, and humidity when the chip has it. Drivers embed it.
type EnvSensor struct {
	chip     string // driver name, starting errors
	bus      *CtxBus
	addr     uint16
	sense    func(e *physic.Env) error // the periph driver's Sense
	humidity bool
	halt     func() error // nil: nothing to send
	guard    sensors.Guard
}

// NewEnvSensor returns the sensor of chip at addr, measured by sense, the
// Sense method of a periph driver that fills a physic.Env (periph's aht20,
// mcp9808, tmp102 and hdc302x), made on bus. humidity says whether it
// measures humidity; halt (nil: none) runs at the first Halt.
//
// It takes the method, not the driver: a driver converted to an interface
// keeps every method of it that any interface could call in the binary,
// and with them periph's unit formatting, which the gateway never uses.
func NewEnvSensor(chip string, bus *CtxBus, addr uint16, sense func(e *physic.Env) error, humidity bool, halt func() error) *EnvSensor {
	return &EnvSensor{chip: chip, bus: bus, addr: addr, sense: sense, humidity: humidity, halt: halt}
}

// String names the chip, bus and address, e.g. "mcp9808{/dev/i2c-1(0x18)}".
func (e *EnvSensor) String() string { return fmt.Sprintf("%s{%s(%#x)}", e.chip, e.bus, e.addr) }

// Sense measures once and returns temperature (°C), then humidity (%).
func (e *EnvSensor) Sense(ctx context.Context) ([]sensors.Reading, error) {
	rs, err := e.guard.Sense(ctx, func() ([]sensors.Reading, error) {
		return e.bus.Bind(ctx, e.read)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %s: sense: %w", e.chip, e, err)
	}
	return rs, nil
}

// Halt runs the halt function given to NewEnvSensor once. Halt is safe to
// call twice.
func (e *EnvSensor) Halt() error {
	return e.guard.Halt(func() error {
		if e.halt == nil {
			return nil
		}
		if err := e.halt(); err != nil {
			return fmt.Errorf("%s: %s: halt: %w", e.chip, e, err)
		}
		return nil
	})
}

//

func (e *EnvSensor) read() ([]sensors.Reading, error) {
	var env physic.Env
	if err := e.sense(&env); err != nil {
		return nil, err
	}
	rs := []sensors.Reading{{Quantity: "temperature", Value: env.Temperature.Celsius(), Unit: "°C"}}
	if e.humidity {
		rs = append(rs, sensors.Reading{Quantity: "humidity", Value: float64(env.Humidity) / float64(physic.PercentRH), Unit: "%"})
	}
	return rs, nil
}
