package sensorstest

import (
	"fmt"

	"go.bug.st/serial"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"

	"github.com/edgegw/edgegw/sensors"
)

// Hardware is a sensors.Hardware made of what the test passes: I2C buses
// (i2ctest.Playback, say), GPIO pins (gpiotest.Pin) and a serial opener.
type Hardware struct {
	Buses map[string]i2c.Bus
	Pins  map[string]gpio.PinIO
	// OpenSerial opens a serial port. nil opens port as a device path with
	// go.bug.st/serial, like the real gateway: point it at a PTY's Path.
	OpenSerial func(port string, mode *serial.Mode) (sensors.SerialPort, error)
}

var _ sensors.Hardware = (*Hardware)(nil)

// I2C returns the bus named bus.
func (h *Hardware) I2C(bus string) (i2c.Bus, error) {
	if b, ok := h.Buses[bus]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("sensorstest: no I2C bus %q", bus)
}

// GPIO returns the pin named name.
func (h *Hardware) GPIO(name string) (gpio.PinIO, error) {
	if p, ok := h.Pins[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("sensorstest: no GPIO pin %q", name)
}

// Serial opens port with OpenSerial, or with go.bug.st/serial.
func (h *Hardware) Serial(port string, mode *serial.Mode) (sensors.SerialPort, error) {
	if h.OpenSerial != nil {
		return h.OpenSerial(port, mode)
	}
	p, err := serial.Open(port, mode)
	if err != nil {
		return nil, err
	}
	return p, nil
}
