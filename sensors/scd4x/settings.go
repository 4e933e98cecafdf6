package scd4x

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/edgegw/edgegw/sensors"
)

// Settings are the chip's calibration and compensation settings (datasheet
// section 3.7). A nil pointer or zero value leaves the chip's own setting
// (its factory default, or what persist_settings stored).
type Settings struct {
	// ASC turns automatic self-calibration on or off (factory: on). It
	// assumes the sensor sees fresh air (about 400 ppm) at least once a
	// week; turn it off in rooms that never get it, and calibrate with
	// Dev.Calibrate instead.
	ASC *bool
	// TemperatureOffset is the chip's self-heating in °C, 0 to 20 (factory
	// 4 °C): the temperature reported is the measured one minus the offset,
	// and humidity follows. It does not change CO₂.
	TemperatureOffset *float64
	// Altitude is the sensor's height above sea level in metres, 0 to 3000
	// (factory 0), for pressure compensation of CO₂.
	Altitude *int
	// AmbientPressure is the air pressure in hPa, 700 to 1200, for pressure
	// compensation; it overrides Altitude. 0 leaves it.
	AmbientPressure float64
	// Persist writes ASC, TemperatureOffset and Altitude to the chip's
	// EEPROM (persist_settings), so that they survive a power cycle. The
	// EEPROM is rated for 2000 writes: New persists only when a value
	// differs from what the chip reports, which is once in the chip's life
	// for a fixed configuration. Default false: the settings are sent again
	// at each start (and after a power cycle the driver notices).
	Persist bool
}

// Setting ranges (datasheet section 3.7).
const (
	MaxTemperatureOffset   = 20.0   // °C
	MaxAltitude            = 3000   // m
	MinAmbientPressure     = 700.0  // hPa
	MaxAmbientPressure     = 1200.0 // hPa
	MinCalibrationPPM      = 300.0  // lowest reference Calibrate accepts
	MaxCalibrationPPM      = 5000.0 // highest reference Calibrate accepts
	calibrationMinRunning  = 3 * time.Minute
	calibrationCommandName = "calibrate"
)

// ErrRecalibration is returned by Calibrate when the chip answers that
// forced recalibration failed (0xFFFF).
var ErrRecalibration = errors.New("scd4x: forced recalibration failed")

// Check returns an error for a setting out of its range.
func (s Settings) Check() error {
	var errs []error
	if o := s.TemperatureOffset; o != nil && (*o < 0 || *o > MaxTemperatureOffset || math.IsNaN(*o)) {
		errs = append(errs, fmt.Errorf("scd4x: temperature offset %v °C out of [0, %v]", *o, MaxTemperatureOffset))
	}
	if a := s.Altitude; a != nil && (*a < 0 || *a > MaxAltitude) {
		errs = append(errs, fmt.Errorf("scd4x: altitude %d m out of [0, %d]", *a, MaxAltitude))
	}
	if p := s.AmbientPressure; p != 0 && (p < MinAmbientPressure || p > MaxAmbientPressure || math.IsNaN(p)) {
		errs = append(errs, fmt.Errorf("scd4x: ambient pressure %v hPa out of [%v, %v]", p, MinAmbientPressure, MaxAmbientPressure))
	}
	return errors.Join(errs...)
}

// Calibrate performs a forced recalibration (perform_forced_recalibration)
// with ppm, the CO₂ concentration the sensor sees now (from a reference
// instrument, or about 420 ppm in fresh outdoor air), and returns the
// correction the chip applied in ppm. The chip must have measured for 3
// minutes in that air first: Calibrate refuses earlier. It stops periodic
// measurement, waits 500 ms, recalibrates (400 ms) and starts measuring
// again, so the next measurement comes one period later.
func (d *Dev) Calibrate(ctx context.Context, ppm float64) (correction float64, err error) {
	if ppm < MinCalibrationPPM || ppm > MaxCalibrationPPM || math.IsNaN(ppm) {
		return 0, fmt.Errorf("%s: calibration reference %v ppm out of [%v, %v]", d, ppm, MinCalibrationPPM, MaxCalibrationPPM)
	}
	_, err = d.guard.Sense(ctx, func() ([]sensors.Reading, error) {
		correction, err = d.calibrate(ctx, uint16(math.Round(ppm)))
		return nil, err
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", d, err)
	}
	return correction, nil
}

// Commands lists "calibrate" when the Opts enabled it (see Commander).
func (d *Dev) Commands() []string {
	if !d.calibrateCmd {
		return nil
	}
	return []string{calibrationCommandName}
}

// Command runs "calibrate": the payload is the reference CO₂ concentration
// in ppm ("420" or {"value": 420}); the outcome is the correction applied,
// reading "co2_correction" in ppm.
func (d *Dev) Command(ctx context.Context, name string, payload []byte) (sensors.Reading, error) {
	if name != calibrationCommandName {
		return sensors.Reading{}, fmt.Errorf("%s: unknown command %q", d, name)
	}
	ppm, err := sensors.ParseSetValue(payload)
	if err != nil {
		return sensors.Reading{}, err
	}
	c, err := d.Calibrate(ctx, ppm)
	if err != nil {
		return sensors.Reading{}, err
	}
	return sensors.Reading{Quantity: "co2_correction", Value: c, Unit: "ppm", Time: d.now()}, nil
}

//

// Commands of section 3.7 and 3.9, with their execution times.
const (
	cmdSetTempOffset   = 0x241D // set_temperature_offset: 1 ms
	cmdGetTempOffset   = 0x2318 // get_temperature_offset: 1 word, 1 ms
	cmdSetAltitude     = 0x2427 // set_sensor_altitude: 1 ms
	cmdGetAltitude     = 0x2322 // get_sensor_altitude: 1 word, 1 ms
	cmdSetPressure     = 0xE000 // set_ambient_pressure: 1 ms
	cmdSetASC          = 0x2416 // set_automatic_self_calibration_enabled: 1 ms
	cmdGetASC          = 0x2313 // get_automatic_self_calibration_enabled: 1 word, 1 ms
	cmdPersist         = 0x3615 // persist_settings: 800 ms
	cmdReinit          = 0x3646 // reinit (reload the settings from EEPROM): 30 ms
	reinitDuration     = 30 * time.Millisecond
	cmdForcedRecalib   = 0x362F // perform_forced_recalibration: 400 ms, 1 word
	frcFailed          = 0xFFFF // the answer of a failed recalibration
	persistDuration    = 800 * time.Millisecond
	recalibrateTimeout = 400 * time.Millisecond
)

// settingWord is one persistent setting: the commands that set and get it,
// and the word configured.
type settingWord struct {
	set, get uint16
	word     uint16
	name     string
}

// words returns the persistent settings s names, in the order they are sent.
func (s Settings) words() []settingWord {
	var ws []settingWord
	if s.ASC != nil {
		w := uint16(0)
		if *s.ASC {
			w = 1
		}
		ws = append(ws, settingWord{cmdSetASC, cmdGetASC, w, "automatic self-calibration"})
	}
	if s.TemperatureOffset != nil {
		ws = append(ws, settingWord{cmdSetTempOffset, cmdGetTempOffset, uint16(math.Round(*s.TemperatureOffset * 65536 / 175)), "temperature offset"})
	}
	if s.Altitude != nil {
		ws = append(ws, settingWord{cmdSetAltitude, cmdGetAltitude, uint16(*s.Altitude), "altitude"})
	}
	return ws
}

// configure sends the settings while the chip is idle, and persists them
// when asked to and the chip's differ.
func (d *Dev) configure(ctx context.Context, persist bool) error {
	ws := d.settings.words()
	changed := false
	if persist && len(ws) > 0 {
		// The getters answer the values in use, which a run without
		// persist may have changed: reload the stored ones first.
		if err := d.dev.Command(ctx, cmdReinit); err != nil {
			return fmt.Errorf("reinit: %w", err)
		}
		if err := sleep(ctx, reinitDuration); err != nil {
			return err
		}
	}
	for _, w := range ws {
		if persist {
			got, err := d.read(ctx, w.get, 1)
			if err != nil {
				return fmt.Errorf("get %s: %w", w.name, err)
			}
			if got[0] == w.word {
				continue // stored already: no EEPROM write needed
			}
			changed = true
		}
		if err := d.dev.Command(ctx, w.set, w.word); err != nil {
			return fmt.Errorf("set %s: %w", w.name, err)
		}
		if err := sleep(ctx, answerDelay); err != nil {
			return err
		}
	}
	if p := d.settings.AmbientPressure; p != 0 {
		if err := d.dev.Command(ctx, cmdSetPressure, uint16(math.Round(p))); err != nil {
			return fmt.Errorf("set ambient pressure: %w", err)
		}
		if err := sleep(ctx, answerDelay); err != nil {
			return err
		}
	}
	if !changed {
		return nil
	}
	if err := d.dev.Command(ctx, cmdPersist); err != nil {
		return fmt.Errorf("persist settings: %w", err)
	}
	d.persists++
	return sleep(ctx, persistDuration)
}

// calibrate stops measuring, recalibrates with ppm and starts again, even
// when recalibration fails.
func (d *Dev) calibrate(ctx context.Context, ppm uint16) (float64, error) {
	if running := d.now().Sub(d.measuring); running < calibrationMinRunning {
		return 0, fmt.Errorf("forced recalibration needs %v of measurement in the reference air first (measuring for %v)", calibrationMinRunning, running.Round(time.Second))
	}
	if err := d.dev.Command(ctx, cmdStop); err != nil {
		return 0, fmt.Errorf("stop periodic measurement: %w", err)
	}
	if err := sleep(ctx, stopDuration); err != nil {
		d.restart = true
		return 0, err
	}
	c, err := d.recalibrate(ctx, ppm)
	if serr := d.dev.Command(ctx, d.start); serr != nil {
		d.restart = true // the next Sense tries again
		err = errors.Join(err, fmt.Errorf("start periodic measurement: %w", serr))
	}
	d.last, d.measuring = d.now(), d.now()
	return c, err
}

// recalibrate sends perform_forced_recalibration and reads the correction.
func (d *Dev) recalibrate(ctx context.Context, ppm uint16) (float64, error) {
	if err := d.dev.Command(ctx, cmdForcedRecalib, ppm); err != nil {
		return 0, fmt.Errorf("perform forced recalibration: %w", err)
	}
	if err := sleep(ctx, recalibrateTimeout); err != nil {
		return 0, err
	}
	w, err := d.dev.ReadWords(ctx, 1)
	if err != nil {
		return 0, fmt.Errorf("perform forced recalibration: %w", err)
	}
	if w[0] == frcFailed {
		return 0, ErrRecalibration
	}
	return float64(int(w[0]) - 0x8000), nil
}

// options reads the chip's keys (see the package documentation).
func options(o *sensors.Options, _ sensors.Spec) *Opts {
	opts := &Opts{LowPower: o.Bool("low_power", false), CalibrateCommand: o.Bool("calibrate_command", false)}
	s := &opts.Settings
	if o.Has("automatic_self_calibration") {
		v := o.Bool("automatic_self_calibration", true)
		s.ASC = &v
	}
	if o.Has("temperature_offset") {
		v := o.Float("temperature_offset", 4)
		if v < 0 || v > MaxTemperatureOffset || math.IsNaN(v) {
			o.Errorf("temperature_offset", "%v °C is out of range: want 0 to %v", v, MaxTemperatureOffset)
		}
		s.TemperatureOffset = &v
	}
	if o.Has("altitude") {
		v := o.Int("altitude", 0)
		if v < 0 || v > MaxAltitude {
			o.Errorf("altitude", "%d m is out of range: want 0 to %d", v, MaxAltitude)
		}
		s.Altitude = &v
	}
	if o.Has("ambient_pressure") {
		s.AmbientPressure = o.Float("ambient_pressure", 0)
		if p := s.AmbientPressure; p < MinAmbientPressure || p > MaxAmbientPressure || math.IsNaN(p) {
			o.Errorf("ambient_pressure", "%v hPa is out of range: want %v to %v", p, MinAmbientPressure, MaxAmbientPressure)
		}
		if s.Altitude != nil {
			o.Errorf("ambient_pressure", "set altitude or ambient_pressure, not both (the pressure overrides the altitude)")
		}
	}
	s.Persist = o.Bool("persist_settings", false)
	if s.Persist && len(s.words()) == 0 {
		o.Errorf("persist_settings", "nothing to persist: set automatic_self_calibration, temperature_offset or altitude (ambient_pressure is never stored)")
	}
	return opts
}
