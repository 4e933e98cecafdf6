// Package ads1x15 is the "ads1115" and "ads1015" drivers: Texas Instruments
// 16-bit and 12-bit analog-to-digital converters on I²C, read single-ended
// (each input AIN0..AIN3 against GND) or differential (AIN0−AIN1,
// AIN0−AIN3, AIN1−AIN3, AIN2−AIN3), each input with its own gain.
//
// periph has an ads1x15 package, but it does not fit: it waits exactly one
// conversion period (1/data rate) and then reads the result without checking
// the OS bit, while the datasheet allows the chip's data rate to be 10 %
// slower, so a read can return the previous conversion, that is another
// input's voltage. This package writes the register logic from the
// datasheet (TI SBAS444, section 9.6) and polls the OS bit.
//
// Each Sense converts every configured input in turn: write the Config
// register (single-shot mode, comparator off) to start a conversion, wait
// one conversion period, poll Config until OS reads 1 (idle), read the
// Conversion register. The result is two's complement:
//
//	V = code × FSR / 2¹⁵    ADS1115 (16-bit code)
//	V = code × FSR / 2¹¹    ADS1015 (12-bit code, left-justified: the register >> 4)
//
// FSR, the full-scale range, is the gain setting: ±6.144, ±4.096, ±2.048,
// ±1.024, ±0.512 or ±0.256 V. An input never goes beyond VDD + 0.3 V
// whatever the range; the range only sets the resolution and the clipping.
//
// Config keys (beside the common sensor keys):
//
//	bus        "1" or "/dev/i2c-1" (default "1")
//	address    0x48 (default, ADDR to GND), 0x49 (VDD), 0x4a (SDA) or 0x4b (SCL)
//	channels   required: map of input to full-scale range in volts; an input
//	           is ain0..ain3 (against GND) or a differential pair ain0_ain1,
//	           ain0_ain3, ain1_ain3, ain2_ain3 (its voltage may be negative)
//	data_rate  samples per second: ads1115 8, 16, 32, 64, 128 (default), 250,
//	           475, 860; ads1015 128, 250, 490, 920, 1600 (default), 2400, 3300
//
// Each input is published as its quantity (its name: ain0, ain0_ain1, …), in V.
//
// Example:
//
//	sensors:
//	  - name: adc
//	    driver: ads1115
//	    address: 0x48
//	    channels: {ain0: 4.096, ain3: 0.256}
//	    interval: 5s
package ads1x15
