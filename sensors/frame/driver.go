package frame

import (
	bugst "go.bug.st/serial"

	"github.com/edgegw/edgegw/sensors"
)

// Mode9600 is 9600 baud, 8 data bits, no parity, one stop bit: the UART
// settings of the PMS5003 and the MH-Z19.
var Mode9600 = &bugst.Mode{BaudRate: 9600, DataBits: 8, Parity: bugst.NoParity, StopBits: bugst.OneStopBit}

// Device describes the driver of one serial sensor for Driver. O is what
// its own options parse to: a pointer (*struct{} when it has none), for one
// instantiation of the generic code whatever the sensor.
type Device[O any] struct {
	// Name is the driver's name.
	Name string
	// Mode is the port's settings.
	Mode *bugst.Mode
	// Options reads the sensor's own keys from o, recording mistakes in o
	// ("port" is read already); spec has the common keys. nil: it has none.
	Options func(o *sensors.Options, spec sensors.Spec) O
	// Quantities lists what a sensor with these options publishes.
	Quantities func(opts O) []sensors.Quantity
	// New makes the sensor; it must not open the port (open does, on
	// first use).
	New func(port string, open func() (sensors.SerialPort, error), opts O) sensors.Sensor
}

// Driver returns the sensors.Driver of d. Its keys are "port" (required,
// passed to Hardware.Serial) and d's own.
func Driver[O any](d Device[O]) sensors.Driver {
	drv := sensors.DriverFunc(d.parse, func(t target[O], hw sensors.Hardware) (sensors.Sensor, error) {
		open := func() (sensors.SerialPort, error) { return hw.Serial(t.port, d.Mode) }
		return d.New(t.port, open, t.opts), nil
	})
	drv.Quantities = func(spec sensors.Spec) ([]sensors.Quantity, error) {
		t, err := d.parse(spec)
		if err != nil {
			return nil, err
		}
		return d.Quantities(t.opts), nil
	}
	return drv
}

//

type target[O any] struct {
	port string
	opts O
}

func (d Device[O]) parse(spec sensors.Spec) (target[O], error) {
	o := &spec.Options
	o.Required("port", spec.Line)
	t := target[O]{port: o.String("port", "")}
	if o.Has("port") && t.port == "" {
		o.Errorf("port", "must not be empty")
	}
	if d.Options != nil {
		t.opts = d.Options(o, spec)
	}
	return t, o.Err()
}
