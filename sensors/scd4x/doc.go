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
// Config keys (beside the common sensor keys):
//
//	bus        "1" or "/dev/i2c-1" (default "1")
//	address    0x62, the chip's only address (default)
//	low_power  true: low power periodic measurement, every 30 s (default false)
//
// Example:
//
//	sensors:
//	  - {name: meeting_room, driver: scd4x, interval: 10s}
package scd4x
