package gpio

import (
	"context"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// These tests run the drivers under the real sensors.Poller, through a
// Registry, to check that they fit its contract: Watch, Set and Halt as the
// poller calls them.

func openWithRegistry(t *testing.T, spec sensors.Spec, pin gpio.PinIO) sensors.Sensor {
	t.Helper()
	reg := sensors.NewRegistry()
	for name, d := range map[string]sensors.Driver{"gpio_in": InDriver(), "gpio_out": OutDriver()} {
		if err := reg.Register(name, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Check(spec); err != nil {
		t.Fatal(err)
	}
	s, err := reg.Open(spec, &sensorstest.Hardware{Pins: map[string]gpio.PinIO{pin.Name(): pin}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runPoller runs a poller until the test ends, and returns its publisher and
// a function that stops it and waits for Run to return.
func runPoller(t *testing.T, spec sensors.Spec, s sensors.Sensor, sub sensors.Subscriber) (*sensorstest.Publisher, func()) {
	t.Helper()
	pub := &sensorstest.Publisher{}
	p := sensors.NewPoller(spec, s, pub, sensors.PollerOptions{Subscriber: sub})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}
	t.Cleanup(cancel)
	return pub, stop
}

func lastValue(pub *sensorstest.Publisher, topic string) (float64, bool) {
	m, ok := pub.Last(topic)
	if !ok {
		return 0, false
	}
	var p sensors.Payload
	if err := m.Decode(&p); err != nil {
		return 0, false
	}
	return p.Value, true
}

func TestIn_underPoller(t *testing.T) {
	pin := newPin()
	spec := sensors.Spec{Name: "door", Driver: "gpio_in", Interval: time.Hour, File: "gw.yaml", Line: 10,
		Options: sensors.Options{File: "gw.yaml", Values: map[string]sensors.Option{
			"pin": {Value: "GPIO17", Line: 11}, "debounce": {Value: "1ms", Line: 12}}}}
	s := openWithRegistry(t, spec, pin)
	pub, stop := runPoller(t, spec, s, nil)

	sensorstest.WaitFor(t, 10*time.Second, "first poll", func() bool {
		v, ok := lastValue(pub, "sensors/door/state")
		return ok && v == 0
	})
	pin.EdgesChan <- gpio.High // the door opens
	sensorstest.WaitFor(t, 10*time.Second, "watched state 1", func() bool {
		v, ok := lastValue(pub, "sensors/door/state")
		return ok && v == 1
	})
	stop()
}

func TestOut_underPoller(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO22", Num: 22}
	spec := sensors.Spec{Name: "pump", Driver: "gpio_out", Interval: time.Hour, File: "gw.yaml", Line: 10,
		Options: sensors.Options{File: "gw.yaml", Values: map[string]sensors.Option{
			"pin": {Value: "GPIO22", Line: 11}, "initial": {Value: "off", Line: 12}, "safe": {Value: "off", Line: 13}}}}
	s := openWithRegistry(t, spec, pin)
	sub := &sensorstest.Subscriber{}
	pub, stop := runPoller(t, spec, s, sub)

	sensorstest.WaitFor(t, 10*time.Second, "subscription to sensors/pump/set", func() bool {
		return len(sub.Filters()) == 1
	})
	sub.Deliver("sensors/pump/set", []byte(" ON\n"))
	sensorstest.WaitFor(t, 10*time.Second, "pin driven high", func() bool { return pin.Read() == gpio.High })
	sub.Deliver("sensors/pump/set", []byte("maybe")) // refused; the pin stays high
	sub.Deliver("sensors/pump/set", []byte("0"))
	sensorstest.WaitFor(t, 10*time.Second, "pin driven low", func() bool { return pin.Read() == gpio.Low })
	sub.Deliver("sensors/pump/set", []byte("true"))
	sensorstest.WaitFor(t, 10*time.Second, "state 1 published", func() bool {
		v, ok := lastValue(pub, "sensors/pump/state")
		return ok && v == 1 && pin.Read() == gpio.High
	})
	stop() // Halt drives the safe level
	if pin.Read() != gpio.Low {
		t.Fatal("pin left high after the poller stopped")
	}
}
