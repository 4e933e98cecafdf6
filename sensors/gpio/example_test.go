package gpio_test

import (
	"context"
	"fmt"
	"log"

	pgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/edgegw/edgegw/sensors/gpio"
)

// A relay on GPIO22 that drops out when the gateway stops. On a board the pin
// comes from sensors.Hardware.GPIO("GPIO22"); here a gpiotest pin.
func ExampleNewOut() {
	pin := &gpiotest.Pin{N: "GPIO22", Num: 22}
	relay, err := gpio.NewOut(pin, gpio.OutConfig{Initial: pgpio.Low, Safe: pgpio.Low})
	if err != nil {
		log.Fatal(err)
	}
	for _, payload := range []string{"on", " OFF ", "true", "maybe"} {
		readings, err := relay.Set(context.Background(), []byte(payload))
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%q: state %v, pin %v\n", payload, readings[0].Value, pin.Read())
	}
	if err := relay.Halt(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("halted: pin", pin.Read())
	// Output:
	// "on": state 1, pin High
	// " OFF ": state 0, pin Low
	// "true": state 1, pin High
	// gpio: payload must be on, off, 1, 0, true or false, got "maybe"
	// halted: pin Low
}

// A door contact on GPIO17 with the pull-up on: closed pulls it low.
func ExampleNewIn() {
	pin := &gpiotest.Pin{N: "GPIO17", Num: 17, EdgesChan: make(chan pgpio.Level)}
	door, err := gpio.NewIn(pin, gpio.InConfig{Pull: pgpio.PullUp, Debounce: gpio.DefaultDebounce})
	if err != nil {
		log.Fatal(err)
	}
	defer door.Halt()
	readings, err := door.Sense(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(readings[0].Quantity, readings[0].Value)
	// Output:
	// state 1
}
