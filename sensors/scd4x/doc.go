// Package scd4x is the "scd4x" driver: the Sensirion SCD40 and SCD41 CO₂
// sensors on I²C, with their temperature and humidity.
//
// periph has an scd4x package, but it does not fit the poller: its Sense
// takes no context, sleeps 5 s on first use and then polls data-ready once a
// second for up to 6 s. This package writes the command flow from the
// datasheet (Sensirion SCD4x, section 3) on the Sensirion framing that
// package i2cdev shares with the sht and sgp30 drivers: 16-bit commands,
// answers as 16-bit words each followed by a CRC-8.
//
// The chip measures on its own clock: New stops any periodic measurement
// left running (stop_periodic_measurement, then 500 ms), reads the serial
// number (which checks the chip answers with valid CRCs) and starts periodic
// measurement: a new value every 5 s (low power: every 30 s). Each Sense asks
// get_data_ready_status until a measurement is ready (every 100 ms, within
// Sense's timeout) and reads it with read_measurement:
//
//	CO₂ = word 0 ppm    T = -45 + 175 × word 1 / 2¹⁶ °C    RH = 100 × word 2 / 2¹⁶ %
//
// A poll faster than the chip measures finds nothing new: Sense returns no
// readings and no error while the last measurement is less than two periods
// old. After that it fails (ErrStale) and sends start_periodic_measurement
// again before the next try, which brings back a chip that was power-cycled.
// A CRC mismatch is an error (matching i2cdev.ErrCRC), never a reading.
// Halt stops periodic measurement.
//
// # Calibration and compensation
//
// New sends the configured Settings while the chip is idle (datasheet
// section 3.7), and sends them again whenever it restarts a chip that
// stopped measuring (a power cycle forgets what was not persisted):
// automatic self-calibration on or off, the temperature offset (the chip's
// self-heating), and the altitude or the ambient pressure for pressure
// compensation. Settings the config does not name keep the chip's own.
//
// persist_settings writes them to the chip's EEPROM, which is rated for
// about 2000 writes: New reloads the stored values (reinit), compares, and
// persists only when one differs, so a fixed configuration costs one write
// in the chip's life, not one per start. It is off by default.
//
// Forced recalibration (Dev.Calibrate, perform_forced_recalibration) tells
// the chip the CO₂ concentration it sees now, after it measured for 3
// minutes in that air (fresh outdoor air is about 420 ppm). With
// calibrate_command the poller takes it from MQTT: publish the reference
// ppm ("420" or {"value": 420}) on "<topic>/calibrate"; the outcome goes to
// "<topic>/calibrate/result" (not retained):
//
//	{"ok": true, "value": -50, "unit": "ppm", "ts": "…"}   the correction applied
//	{"ok": false, "error": "…forced recalibration needs 3m0s…", "ts": "…"}
//
// Limit who may publish there with the broker's ACL.
//
// Config keys (beside the common sensor keys):
//
//	bus                         "1" or "/dev/i2c-1" (default "1")
//	address                     0x62, the chip's only address (default)
//	low_power                   true: low power periodic measurement, every 30 s (default false)
//	automatic_self_calibration  true or false (default: the chip's, on from the factory)
//	temperature_offset          °C, 0 to 20 (default: the chip's, 4 °C from the factory)
//	altitude                    metres above sea level, 0 to 3000 (default: the chip's, 0)
//	ambient_pressure            hPa, 700 to 1200; overrides altitude (set one of the two)
//	persist_settings            write the first three to EEPROM, only when they differ (default false)
//	calibrate_command           accept "<topic>/calibrate" (default false)
//
// Example:
//
//	sensors:
//	  - {name: meeting_room, driver: scd4x, interval: 10s}
//	  - name: cellar_co2
//	    driver: scd4x
//	    interval: 30s
//	    automatic_self_calibration: false   # never sees fresh air
//	    altitude: 450
//	    calibrate_command: true
package scd4x
