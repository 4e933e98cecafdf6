// Package i2creg is the generic "i2c_register" driver: it reads one register
// of any I²C device and publishes it as a number, for chips that have no
// dedicated driver.
//
// Each Sense is one bus transaction: write the register address, then read
// Length bytes. The bytes are decoded as Format, then scaled:
//
//	value = raw*Scale + Offset
//
// Config keys (beside the common sensor keys):
//
//	bus       "1" or "/dev/i2c-1" (default "1"); see ParseBus
//	address   7-bit device address, 0x03..0x77 (required)
//	register  register to read, 0..255 (required)
//	format    u8, s8, u16be, s16be, u16le, s16le, u32be, s32be, u32le, s32le,
//	          f32be or f32le (default u8); "be" is most significant byte first
//	length    bytes to read, 1..size of format (default: size of format);
//	          a shorter integer is zero- or sign-extended, so format s32be with
//	          length 3 reads a 24-bit signed big-endian value
//	scale     multiplier (default 1)
//	offset    added after scaling (default 0)
//	unit      unit of the scaled value (default "")
//	quantity  topic suffix (default "value")
//
// Example:
//
//	sensors:
//	  - {name: lux, driver: i2c_register, bus: "1", address: 0x23, register: 0x10,
//	     format: u16be, scale: 0.8333, unit: lx, quantity: illuminance}
//
// The driver never closes the bus it is given: the sensors.Hardware that
// opened it does.
package i2creg
