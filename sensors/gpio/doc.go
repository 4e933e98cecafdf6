// Package gpio is the "gpio_in" and "gpio_out" drivers: one digital pin,
// through periph.io/x/conn/v3/gpio.
//
// # gpio_in
//
// An input pin (button, reed switch, PIR, pulse output of a meter). Config
// keys beside the common sensor keys:
//
//	pin       pin name, e.g. GPIO17 (required; see ValidatePinName)
//	pull      up, down or none (default none)
//	edge      rising, falling or both (default both)
//	debounce  a change counts once the level has held this long (default 20ms)
//	mode      state or counter (default state)
//
// In state mode, Sense returns quantity "state" (1 high, 0 low) and Watch
// reports "state" on each debounced change in the edge direction (rising:
// only 0→1). In counter mode Watch counts debounced changes in the edge
// direction without reporting each one, and Sense returns "count" (changes
// since Open) and "rate" (changes per second since the previous Sense, unit
// "/s").
//
// The pin is always armed for both edges, whatever edge says: the debouncer
// must see every change to know the settled level, and edge only selects
// which settled changes are reported or counted. Debouncing waits for quiet:
// after an edge, Watch waits until no further edge has come for the debounce
// time, then reads the level; a pulse shorter than that is ignored, and a
// change is reported debounce after its last bounce.
//
// # gpio_out
//
// An output pin (relay, LED). Config keys:
//
//	pin      pin name (required)
//	initial  on or off: the level set at Open (default off)
//	safe     on or off: the level Halt leaves the pin at (default: initial)
//
// Sense returns "state", the level last driven. Set, driven by messages on
// "<topic>/set", accepts on, off, 1, 0, true or false (any case, surrounding
// space ignored) and returns the new "state". Halt drives the safe level, so
// a relay drops out when the gateway stops.
//
// # Example
//
//	sensors:
//	  - {name: door, driver: gpio_in, pin: GPIO17, pull: up, interval: 60s}
//	  - {name: water, driver: gpio_in, pin: GPIO27, edge: falling, mode: counter, interval: 30s}
//	  - {name: pump, driver: gpio_out, pin: GPIO22, initial: off, interval: 60s}
package gpio
