// Package bmxx80 is the "bme280" and "bmp280" drivers: Bosch environmental
// sensors on I²C, read through periph.io/x/devices/v3/bmxx80.
//
// Both chips measure temperature (°C) and pressure (hPa); the BME280 also
// measures relative humidity (%). Each Sense triggers one forced-mode
// measurement with 4x oversampling of every quantity (periph's DefaultOpts),
// waits for it (about 30 ms), and reads the result; between polls the chip
// sleeps, drawing under 1 µA.
//
// Config keys (beside the common sensor keys):
//
//	bus      "1" or "/dev/i2c-1" (default "1")
//	address  0x76 (default, SDO to ground) or 0x77 (SDO to VDDIO)
//
// Example:
//
//	sensors:
//	  - {name: kitchen, driver: bme280, bus: "1", address: 0x76, interval: 10s}
//
// New reads the chip id (register 0xD0) before anything else, so a bmp280
// entry on a BME280 board (or the reverse) fails with ErrWrongChip and a
// message naming the chip found, instead of silently losing humidity.
//
// Values travel as periph's physic units (nano-Kelvin, nano-Pascal, tenths
// of micro-%RH) inside the package and are converted to float64 °C, hPa and %
// only when a Reading is built.
//
// The driver never closes the bus it is given; ctx is checked before every bus
// transaction, so a cancelled Sense stops at the next one.
package bmxx80
