// Package sht is the "sht3x" and "sht4x" drivers: Sensirion temperature and
// humidity sensors on I²C. The two families share one package because they
// differ only in command codes, timings and the humidity formula; the
// framing (16-bit words each followed by a CRC-8) and the temperature
// formula are the same. periph has no driver for either.
//
// Each Sense sends one single-shot measurement command (no clock
// stretching), waits the datasheet's maximum measurement duration, and reads
// two words, temperature and humidity, checking both CRCs: a corrupted
// transfer is an error (matching i2cdev.ErrCRC), never a reading.
//
//	T  = -45 + 175 × S_T / 65535                 °C (both)
//	RH = 100 × S_RH / 65535                      %  (SHT3x)
//	RH = -6 + 125 × S_RH / 65535, cut to 0..100  %  (SHT4x)
//
// New checks that the chip answers, with a CRC-checked read of the SHT3x's
// status register or the SHT4x's serial number.
//
// Config keys (beside the common sensor keys):
//
//	bus            "1" or "/dev/i2c-1" (default "1")
//	address        sht3x: 0x44 (default) or 0x45; sht4x: 0x44 (default), 0x45 or 0x46
//	repeatability  sht3x: high (default, 15 ms), medium (6 ms) or low (4 ms)
//	precision      sht4x: high (default, 8.3 ms), medium (4.5 ms) or low (1.7 ms)
//
// Example:
//
//	sensors:
//	  - {name: office, driver: sht4x, address: 0x44, interval: 30s}
package sht
