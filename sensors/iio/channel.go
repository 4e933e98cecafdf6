package iio

import (
	"regexp"
	"strings"
)

// channel is one input channel of a device, parsed from its file name.
type channel struct {
	id       string // file name without "in_" and the suffix: "voltage0-voltage1"
	typ      string // "voltage"
	index    string // "0", or ""
	diff     string // the second input of a differential channel: "voltage1", or ""
	modifier string // "co2", "ambient", or ""
	file     string // "in_voltage0-voltage1_raw"
	raw      bool   // _raw (convert with _offset and _scale), not _input

	// offset and scale are the device's files holding a raw channel's
	// offset and scale (see attrFile), "" when it has none.
	offset, scale string
}

// unit is how a channel type's ABI unit converts to the published one.
type unit struct {
	name   string  // default quantity name for the type
	factor float64 // published = ABI value × factor
	symbol string  // published unit
}

// units maps IIO channel types to their published quantity and unit
// (sysfs-bus-iio gives the ABI units; concentration is in percent).
var units = map[string]unit{
	"temp":              {"temperature", 0.001, "°C"},
	"humidityrelative":  {"humidity", 0.001, "%"},
	"pressure":          {"pressure", 10, "hPa"},
	"illuminance":       {"illuminance", 1, "lx"},
	"voltage":           {"voltage", 0.001, "V"},
	"current":           {"current", 0.001, "A"},
	"power":             {"power", 0.001, "W"},
	"concentration":     {"concentration", 10000, "ppm"},
	"massconcentration": {"massconcentration", 1, "µg/m³"},
	"resistance":        {"resistance", 1, "Ω"},
	"capacitance":       {"capacitance", 1, "nF"},
	"accel":             {"accel", 1, "m/s²"},
	"anglvel":           {"anglvel", 1, "rad/s"},
	"magn":              {"magn", 1, "G"},
	"uvindex":           {"uv_index", 1, ""},
}

// quirk corrects a kernel driver that reports a type in other units than
// the ABI's.
type quirk struct {
	device, typ string
	unit        unit
}

var quirks = []quirk{
	// bme680_core.c: humidity is milli-percent / 1000 (IIO_VAL_FRACTIONAL),
	// i.e. percent, for both _input and _raw × _scale.
	{"bme680", "humidityrelative", unit{"humidity", 1, "%"}},
	// sgp40.c: in_concentration_input is the VOC index, 0–500, no unit.
	{"sgp40", "concentration", unit{"voc_index", 1, ""}},
}

// parseChannel parses an input channel's value file name; ok is false for
// every other file (scale, offset, sampling_frequency, peak values, …).
func parseChannel(file string) (c channel, ok bool) {
	m := channelFile.FindStringSubmatch(file)
	if m == nil {
		return channel{}, false
	}
	c = channel{typ: m[1], index: m[2], modifier: strings.TrimPrefix(m[5], "_"), file: file, raw: m[6] == "raw"}
	if m[3] != "" {
		c.diff = m[3] + m[4]
	}
	if last := c.modifier[strings.LastIndex(c.modifier, "_")+1:]; notChannel[last] {
		return channel{}, false
	}
	c.id = strings.TrimSuffix(strings.TrimPrefix(file, "in_"), "_"+m[6])
	return c, true
}

// quantity is the channel's default quantity name and its unit, on a device
// named device.
func (c channel) quantity(device string) (string, unit) {
	u, known := units[c.typ]
	for _, q := range quirks {
		if q.device == device && q.typ == c.typ {
			u, known = q.unit, true
		}
	}
	if !known {
		return c.id, unit{factor: 1}
	}
	name := u.name
	if c.modifier != "" && (c.typ == "concentration" || c.typ == "massconcentration") && u.name == c.typ {
		return massName(c.modifier) + c.index, u // co2, voc, pm25
	}
	name += c.index
	if c.diff != "" {
		name += "-" + c.diff
	}
	if c.modifier != "" {
		name += "_" + c.modifier
	}
	return name, u
}

// attrFiles lists the files that may hold the channel's attr ("scale" or
// "offset"), most specific first: separate, then shared by type.
func (c channel) attrFiles(attr string) []string {
	mod := ""
	if c.modifier != "" {
		mod = "_" + c.modifier
	}
	files := []string{"in_" + c.id + "_" + attr}
	if c.diff != "" {
		files = append(files, "in_"+c.typ+"-"+strings.TrimRight(c.diff, "0123456789")+"_"+attr)
	}
	if mod != "" {
		files = append(files, "in_"+c.typ+mod+"_"+attr)
	}
	return append(files, "in_"+c.typ+"_"+attr)
}

// attrFile returns the first of the channel's attr files (attrFiles) that
// the device has, going by the names in its directory; "" when none.
func (c channel) attrFile(attr string, has map[string]bool) string {
	for _, f := range c.attrFiles(attr) {
		if has[f] {
			return f
		}
	}
	return ""
}

//

// channelFile matches in_<type>[<index>][-<type><index>][_<modifier>]_(input|raw).
var channelFile = regexp.MustCompile(`^in_([a-z]+)([0-9]*)(?:-([a-z]+)([0-9]+))?((?:_[a-z0-9]+)*)_(input|raw)$`)

// validID reports whether id can be a channel id: what a channels or
// rename entry must look like ("temp", not "in_temp_input").
func validID(id string) bool {
	c, ok := parseChannel("in_" + id + "_raw")
	return ok && c.id == id && !strings.HasPrefix(id, "in_") && !strings.HasPrefix(id, "out_") &&
		!strings.HasSuffix(id, "_input") && !strings.HasSuffix(id, "_raw")
}

// notChannel are modifiers that name another view of a channel, not a
// channel: peak and trough values, averages.
var notChannel = map[string]bool{"peak": true, "trough": true, "mean": true}

// massName turns a concentration modifier into a quantity name: "pm2p5" →
// "pm25" (Home Assistant's name), others unchanged.
func massName(mod string) string {
	return strings.ReplaceAll(mod, "p5", "5")
}

// baseName strips the "@<address>" a device-tree platform device carries in
// its name ("dht11@4").
func baseName(name string) string {
	base, _, _ := strings.Cut(name, "@")
	return base
}
