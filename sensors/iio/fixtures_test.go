package iio_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Fake /sys/bus/iio/devices trees, copying what the kernel drivers create:
// file names from each driver's iio_chan_spec (info_mask_separate,
// _shared_by_type, _shared_by_dir), value formats from iio_format_value
// (IIO_VAL_INT "%d", IIO_VAL_INT_PLUS_MICRO "%d.%06u", IIO_VAL_FRACTIONAL
// and IIO_VAL_FRACTIONAL_LOG2 "%d.%09u"), each followed by "\n".

// dht11 is drivers/iio/humidity/dht11.c: two IIO_CHAN_INFO_PROCESSED
// channels, IIO_VAL_INT in milli-units; the name is the platform device's,
// the device-tree node "dht11@<gpio>" (dtoverlay=dht11,gpiopin=4). A DHT11
// reading 23 °C, 45 %.
var dht11 = map[string]string{
	"name":                      "dht11@4",
	"in_temp_input":             "23000",
	"in_humidityrelative_input": "45000",
	"uevent":                    "OF_NAME=dht11\nOF_FULLNAME=/dht11@4\nOF_COMPATIBLE_0=dht11",
}

// dht22 is the same driver decoding a DHT22 (hum_int < 20): tenths of a
// unit × 100, negative temperatures too.
var dht22 = map[string]string{
	"name":                      "dht11@17",
	"in_temp_input":             "-7300",
	"in_humidityrelative_input": "87600",
}

// bme680 is drivers/iio/chemical/bme680_core.c: temperature, pressure and
// humidity with PROCESSED, RAW, SCALE and OVERSAMPLING_RATIO, gas
// resistance PROCESSED only. Processed temperature is centi-°C × 10
// (IIO_VAL_INT), pressure Pa / 1000 (kPa, IIO_VAL_FRACTIONAL), humidity
// milli-% / 1000, that is percent, not the ABI's milli-percent. Each read
// is a new measurement: the _raw files hold a later one than _input.
var bme680 = map[string]string{
	"name":                                   "bme680",
	"in_temp_input":                          "23450",
	"in_temp_raw":                            "2346",
	"in_temp_scale":                          "10",
	"in_temp_oversampling_ratio":             "8",
	"in_pressure_input":                      "101.325000000",
	"in_pressure_raw":                        "101327",
	"in_pressure_scale":                      "0.001000000",
	"in_pressure_oversampling_ratio":         "4",
	"in_humidityrelative_input":              "43.215000000",
	"in_humidityrelative_raw":                "43219",
	"in_humidityrelative_scale":              "0.001000000",
	"in_humidityrelative_oversampling_ratio": "2",
	"in_resistance_input":                    "82986",
	"oversampling_ratio_available":           "1 2 4 8 16",
}

// ads1015 is drivers/iio/adc/ti-ads1015.c: four differential and four
// single-ended voltage channels, each with RAW, SCALE and SAMP_FREQ
// separate. The scale is IIO_VAL_FRACTIONAL_LOG2 fullscale mV / 2^11
// (12-bit): PGA ±2.048 V gives 1.000000000, ±4.096 V (channel 1 here)
// 2.000000000.
var ads1015 = map[string]string{
	"name":                       "ads1015",
	"in_voltage0-voltage1_raw":   "-12",
	"in_voltage0-voltage1_scale": "1.000000000",
	"in_voltage0-voltage1_sampling_frequency": "1600",
	"in_voltage0-voltage3_raw":                "3",
	"in_voltage0-voltage3_scale":              "1.000000000",
	"in_voltage0-voltage3_sampling_frequency": "1600",
	"in_voltage1-voltage3_raw":                "5",
	"in_voltage1-voltage3_scale":              "1.000000000",
	"in_voltage1-voltage3_sampling_frequency": "1600",
	"in_voltage2-voltage3_raw":                "7",
	"in_voltage2-voltage3_scale":              "1.000000000",
	"in_voltage2-voltage3_sampling_frequency": "1600",
	"in_voltage0_raw":                         "1650",
	"in_voltage0_scale":                       "1.000000000",
	"in_voltage0_sampling_frequency":          "1600",
	"in_voltage1_raw":                         "1200",
	"in_voltage1_scale":                       "2.000000000",
	"in_voltage1_sampling_frequency":          "1600",
	"in_voltage2_raw":                         "0",
	"in_voltage2_scale":                       "1.000000000",
	"in_voltage2_sampling_frequency":          "1600",
	"in_voltage3_raw":                         "2047",
	"in_voltage3_scale":                       "1.000000000",
	"in_voltage3_sampling_frequency":          "1600",
	"scale_available":                         "3 2 1 0.5 0.25 0.125",
	"sampling_frequency_available":            "128 250 490 920 1600 2400 3300",
}

// bh1750 is drivers/iio/light/bh1750.c: one IIO_LIGHT channel with RAW,
// SCALE (IIO_VAL_INT_PLUS_MICRO, 57500000 / MTreg 69 = 0.833333 lx per
// count) and INT_TIME. 600 counts ≈ 500 lx.
var bh1750 = map[string]string{
	"name":                            "bh1750",
	"in_illuminance_raw":              "600",
	"in_illuminance_scale":            "0.833333",
	"in_illuminance_integration_time": "0.120000",
	"integration_time_available":      "0.018000 0.020000 0.022000",
}

// si7020 is drivers/iio/humidity/si7020.c (Si7013/20/21): RAW, SCALE and
// OFFSET separate; scale IIO_VAL_FRACTIONAL (175720 / 16384 m°C and
// 125000 / 16384 m% per count), offset IIO_VAL_INT in counts. It stands in
// for the SHT4x, which mainline Linux drives through hwmon
// (drivers/hwmon/sht4x.c), not IIO. 25.000 °C, 45.006 %.
var si7020 = map[string]string{
	"name":                       "si7020",
	"in_temp_raw":                "6699",
	"in_temp_scale":              "10.725097656",
	"in_temp_offset":             "-4368",
	"in_humidityrelative_raw":    "6685",
	"in_humidityrelative_scale":  "7.629394531",
	"in_humidityrelative_offset": "-786",
}

// ina226 is drivers/iio/adc/ina2xx-adc.c: shunt voltage 0, bus voltage 1,
// power 2, current 3, each RAW and SCALE separate (IIO_VAL_FRACTIONAL:
// 1/400 mV, 1250/1000 mV, 25000/1000 mW; current IIO_VAL_INT 1 mA),
// integration time on the voltages, sampling frequency and oversampling
// shared by direction ("in_…"). 5 mV shunt, 12 V bus, 6 W, 0.5 A.
var ina226 = map[string]string{
	"name":                         "ina226",
	"in_voltage0_raw":              "2000",
	"in_voltage0_scale":            "0.002500000",
	"in_voltage0_integration_time": "0.001100",
	"in_voltage1_raw":              "9600",
	"in_voltage1_scale":            "1.250000000",
	"in_voltage1_integration_time": "0.001100",
	"in_power2_raw":                "240",
	"in_power2_scale":              "25.000000000",
	"in_current3_raw":              "500",
	"in_current3_scale":            "1",
	"in_oversampling_ratio":        "4",
	"in_sampling_frequency":        "114",
	"in_allow_async_readout":       "0",
	"in_shunt_resistor":            "10000",
}

// sysfs is a fake /sys/bus/iio/devices: each device a directory elsewhere
// (as under /sys/devices/platform/…) with a symlink iio:deviceN to it.
type sysfs struct {
	t    *testing.T
	root string // …/bus/iio/devices
	devs string // …/devices, where the directories are
	n    int
}

func newSysfs(t *testing.T) *sysfs {
	t.Helper()
	base := t.TempDir()
	s := &sysfs{t: t, root: filepath.Join(base, "bus", "iio", "devices"), devs: filepath.Join(base, "devices")}
	for _, d := range []string{s.root, s.devs, filepath.Join(s.devs, "trigger0")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A trigger sits beside the devices, as with a hrtimer trigger.
	if err := os.Symlink(filepath.Join(s.devs, "trigger0"), filepath.Join(s.root, "trigger0")); err != nil {
		t.Fatal(err)
	}
	return s
}

// add creates the next iio:deviceN with files (each value gets the "\n"
// sysfs adds) and returns its directory name.
func (s *sysfs) add(files map[string]string) string {
	s.t.Helper()
	dir := "iio:device" + strconv.Itoa(s.n)
	s.n++
	real := filepath.Join(s.devs, "platform", dir)
	if err := os.MkdirAll(filepath.Join(real, "power"), 0o755); err != nil {
		s.t.Fatal(err)
	}
	s.write(real, files)
	if err := os.Symlink(real, filepath.Join(s.root, dir)); err != nil {
		s.t.Fatal(err)
	}
	return dir
}

// set rewrites files of device dir.
func (s *sysfs) set(dir string, files map[string]string) {
	s.t.Helper()
	s.write(filepath.Join(s.devs, "platform", dir), files)
}

func (s *sysfs) write(real string, files map[string]string) {
	s.t.Helper()
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(real, name), []byte(v+"\n"), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

// remove unplugs device dir: the symlink and the directory go.
func (s *sysfs) remove(dir string) {
	s.t.Helper()
	if err := os.Remove(filepath.Join(s.root, dir)); err != nil {
		s.t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(s.devs, "platform", dir)); err != nil {
		s.t.Fatal(err)
	}
}
