// Package sgp30 is the "sgp30" driver: the Sensirion SGP30 indoor air
// quality sensor on I²C, giving a CO₂ equivalent (eCO₂, ppm) and total
// volatile organic compounds (TVOC, ppb).
//
// periph has an sgp30 package, but it does not fit: its constructor sleeps
// 20 s and starts a goroutine that nothing stops, which logs with the log
// package, and it never checks the answers' CRCs. This package writes the
// command flow from the datasheet (Sensirion SGP30, section 6) on the
// Sensirion framing of package i2cdev.
//
// The chip's baseline compensation needs measure_iaq once a second, whatever
// the publishing interval, so a Dev is a sensors.Watcher: Watch sends
// iaq_init and then measure_iaq every second, checking every CRC, and keeps
// the latest values; Sense returns them. For the first 15 s after iaq_init
// the chip answers fixed values (400 ppm, 0 ppb), which Sense does not
// report: it returns no readings and no error. Sense fails when Watch has
// had no good measurement for 3 s; Watch returns on a bus error and the
// poller restarts it with backoff (iaq_init again: a chip that was
// power-cycled starts over).
//
// # Humidity compensation
//
// The chip's readings depend on the air's absolute humidity, which it does
// not measure. Given one, Watch sends set_absolute_humidity (g/m³, 8.8
// fixed point: HumidityWord) after iaq_init and whenever the value changes.
// It comes from fixed temperature and humidity options, or from a
// companion sensor of the same gateway publishing "temperature" and
// "humidity" (a BME280, SHT4x, AHT20…): the Dev follows those readings
// (sensors.Follower), converts them (AbsoluteHumidity) and turns
// compensation off (0) when they are more than 10 minutes old.
//
// # Baseline
//
// The algorithm's baseline takes the chip 12 hours to learn, and iaq_init
// forgets it. With the gateway's data_dir, Watch restores the stored
// baseline with set_iaq_baseline right after iaq_init when it is younger
// than the datasheet's 7 days (a baseline from the future, written before
// the clock was set, is not used), reads it with get_iaq_baseline every
// baseline_interval, and stores it in <data_dir>/sgp30-<serial>.baseline.json
// atomically (temporary file, fsync, rename, fsync of the directory: a
// power cut leaves the old file or the new one). Without a restored
// baseline, the first is stored after 12 hours of running, as the
// datasheet asks. A failed write is reported by Sense (ErrBaselineSave,
// with the readings) until a write succeeds. An hourly write of 60 bytes
// is no flash wear worth measuring.
//
// Config keys (beside the common sensor keys):
//
//	bus                "1" or "/dev/i2c-1" (default "1")
//	address            0x58, the chip's only address (default)
//	companion          name of a sensor of this gateway publishing temperature (°C, °F or K) and humidity (%)
//	temperature        fixed air temperature in °C (-40 to 85), with humidity, instead of a companion
//	humidity           fixed relative humidity in % (0 to 100), with temperature
//	baseline           keep the baseline in data_dir (default true)
//	baseline_interval  how often to save it (default 1h, at least 1m)
//
// Quantities: eco2 (ppm), tvoc (ppb).
//
// Example:
//
//	sensors:
//	  - {name: kitchen, driver: bme280, interval: 10s}
//	  - {name: air, driver: sgp30, interval: 30s, companion: kitchen}
package sgp30

import (
	"math"
	"slices"
	"time"

	"periph.io/x/conn/v3/i2c"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/i2cdev"
)

// Driver returns the "sgp30" driver for a sensors.Registry.
func Driver() sensors.Driver {
	return i2cdev.Driver(i2cdev.Chip[*Opts]{
		Name:    "sgp30",
		Addrs:   []uint16{Addr},
		Options: options,
		Quantities: func(*Opts) []sensors.Quantity {
			return []sensors.Quantity{{Name: "eco2", Unit: "ppm"}, {Name: "tvoc", Unit: "ppb"}}
		},
		New: func(bus i2c.Bus, _ uint16, o *Opts) (sensors.Sensor, error) { return New(bus, *o) },
	})
}

//

// options reads the chip's keys into Opts.
func options(o *sensors.Options, spec sensors.Spec) *Opts {
	opts := &Opts{BaselineEvery: o.Duration("baseline_interval", time.Hour)}
	if opts.BaselineEvery < time.Minute {
		o.Errorf("baseline_interval", "%v is too short: at least 1m (the file is written each time)", opts.BaselineEvery)
	}
	if o.Bool("baseline", true) {
		opts.BaselineDir = spec.DataDir
	}
	if o.Has("companion") {
		opts.Companion = companion(o, spec)
	}
	hasT, hasRH := o.Has("temperature"), o.Has("humidity")
	switch {
	case hasT && !hasRH:
		o.Errorf("temperature", "set humidity too: compensation needs both")
	case hasRH && !hasT:
		o.Errorf("humidity", "set temperature too: compensation needs both")
	case hasT && o.Has("companion"):
		o.Errorf("temperature", "set companion or temperature and humidity, not both")
	case hasT:
		t, rh := o.Float("temperature", 25), o.Float("humidity", 50)
		if t < -40 || t > 85 || math.IsNaN(t) {
			o.Errorf("temperature", "%v °C is out of range: want -40 to 85", t)
		}
		if rh < 0 || rh > 100 || math.IsNaN(rh) {
			o.Errorf("humidity", "%v %% is out of range: want 0 to 100", rh)
		}
		opts.AbsoluteHumidity = AbsoluteHumidity(t, rh)
	}
	return opts
}

// companion resolves the companion key, a sensor's name, to its topic.
func companion(o *sensors.Options, spec sensors.Spec) string {
	name := o.String("companion", "")
	topic, ok := spec.Peers[name]
	switch {
	case name == spec.Name:
		o.Errorf("companion", "%q is this sensor: name the sensor that measures temperature and humidity", name)
	case !ok && spec.Peers != nil:
		names := make([]string, 0, len(spec.Peers))
		for n := range spec.Peers {
			if n != spec.Name {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		o.Errorf("companion", "no sensor named %q (sensors: %v)", name, names)
	case !ok:
		topic = "sensors/" + name
	}
	return topic
}
