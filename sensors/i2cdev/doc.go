// Package i2cdev holds what the I²C chip drivers (sht, aht20, bh1750,
// ads1x15, scd4x, sgp30, ina219, mcp9808, tmp102, hdc302x) share, so that each
// of them is only its datasheet:
//
//   - Dev: one chip on a bus. Every transaction checks its context first, so
//     a cancelled Sense stops at the next one; register words are big-endian
//     (ReadReg16, WriteReg16); Sensirion chips take 16-bit commands and answer
//     16-bit words each followed by a CRC-8 (Command, ReadWords).
//   - CRC8: the CRC-8 of Sensirion (SHT3x, SHT4x, SCD4x, SGP30) and Aosong
//     (AHT20) chips: polynomial 0x31 (x⁸+x⁵+x⁴+1), initial value 0xFF, no
//     final XOR; CRC8(0xBE, 0xEF) = 0x92.
//   - CtxBus: an i2c.Bus bound to a context, for chips read through a periph
//     driver whose calls take none.
//   - Driver: a sensors.Driver from a chip's addresses, options and
//     constructor, with the bus and address keys read and checked as every
//     I²C driver reads them.
//
// A driver never closes the bus it is given: the sensors.Hardware that opened
// it does.
package i2cdev
