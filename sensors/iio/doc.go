// Package iio reads sensors that a Linux kernel driver already supports,
// through the Industrial I/O sysfs interface (Documentation/ABI/testing/
// sysfs-bus-iio in the kernel tree).
//
// The kernel has IIO drivers for hundreds of chips: on a Raspberry Pi one
// dtoverlay= line makes a DHT11/DHT22, BME680, ADS1015, BH1750, Si7020,
// INA219/INA226, … appear as /sys/bus/iio/devices/iio:deviceN, a directory
// with a "name" file and one file per channel:
//
//	in_<type>[<index>][_<modifier>]_input   a processed value, or
//	in_<type>[<index>][_<modifier>]_raw     a raw one, converted as
//	                                        (raw + _offset) × _scale
//
// The _scale and _offset files are looked up per channel first and then
// shared by type ("in_voltage_scale"), as the ABI says; a missing offset is
// 0 and a missing scale 1.
//
// A channel's id is its file name without "in_" and "_input"/"_raw":
// "temp", "humidityrelative", "voltage0", "voltage0-voltage1",
// "concentration_co2". Values are converted from the ABI's units to the
// ones users expect, and each channel is published under a quantity name:
//
//	type               ABI unit     published as            unit
//	temp               m°C          temperature             °C
//	humidityrelative   m%           humidity                %
//	pressure           kPa          pressure                hPa
//	illuminance        lx           illuminance             lx
//	voltage            mV           voltage<N>              V
//	current            mA           current<N>              A
//	power              mW           power<N>                W
//	concentration      %            co2, voc, … (modifier)  ppm
//	massconcentration  µg/m³        pm25, pm10, …           µg/m³
//	resistance         Ω            resistance              Ω
//
// The index and the modifier are kept ("temp_ambient" → temperature_ambient,
// "voltage1" → voltage1); other types are published under their id with no
// unit. Drivers that stray from the ABI are corrected: bme680 reports
// humidity in % (not m%), sgp40's in_concentration_input is a VOC index.
//
// Kernel drivers fail a read with an errno: DHT11/DHT22 often return EIO (bad
// checksum) or ETIMEDOUT (missed edges), bme680 EBUSY. Those transient errors
// (EIO, ETIMEDOUT, EAGAIN, EBUSY) are retried within the same Sense, up to
// Retries times RetryDelay apart, honouring ctx, and counted (Stats); a read
// that still fails is an error, never a value. A device that disappears
// (module unloaded, I²C device gone) is an error of every Sense until it
// comes back, under any iio:deviceN number. A DHT read takes up to about a
// second and the sensor wants 1–2 s between measurements: give it an
// interval of 10s or more so that the retries fit in the poll's timeout.
//
// Config keys (beside the common ones):
//
//	device: bme680                   # required: the "name" (or "label") file's
//	                                 # content, "dht11" also matching "dht11@4";
//	                                 # or a directory, "iio:device0"
//	sysfs_root: /sys/bus/iio/devices # where IIO devices appear
//	channels: [temp, pressure]       # channel ids to read; default every channel
//	rename: {voltage1: bus_voltage}  # channel id → quantity name
//	retries: 3                       # extra attempts after a transient error (0–10)
//	retry_delay: 500ms               # between attempts
package iio
