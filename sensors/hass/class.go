package hass

// deviceClass picks Home Assistant's device_class for a quantity: by its
// name when the unit suits that class, else by its unit alone. Home
// Assistant rejects a class whose unit it does not accept, so a quantity
// whose unit fits no class gets none.
func deviceClass(quantity, unit string) string {
	if c, ok := byName[quantity]; ok && accepts(c, unit) {
		return c
	}
	if c, ok := byUnit[unit]; ok {
		return c
	}
	return ""
}

// stateClass is "total_increasing" for meters and counters (a drop is taken
// as a reset), "measurement" otherwise.
func stateClass(quantity, class string) string {
	if class == "energy" || quantity == "count" {
		return "total_increasing"
	}
	return "measurement"
}

//

func accepts(class, unit string) bool {
	for _, u := range units[class] {
		if u == unit {
			return true
		}
	}
	return false
}

// units lists the units Home Assistant accepts for each class we use.
var units = map[string][]string{
	"temperature":                      {"°C", "°F", "K"},
	"humidity":                         {"%"},
	"moisture":                         {"%"},
	"battery":                          {"%"},
	"pressure":                         {"Pa", "kPa", "hPa", "bar", "cbar", "mbar", "mmHg", "inHg", "psi"},
	"voltage":                          {"V", "mV", "µV", "kV"},
	"current":                          {"A", "mA"},
	"power":                            {"W", "kW", "mW", "MW"},
	"energy":                           {"Wh", "kWh", "MWh"},
	"apparent_power":                   {"VA", "kVA"},
	"reactive_power":                   {"var", "kvar"},
	"power_factor":                     {"", "%"},
	"frequency":                        {"Hz", "kHz", "MHz", "GHz"},
	"carbon_dioxide":                   {"ppm"},
	"illuminance":                      {"lx"},
	"speed":                            {"km/h", "m/s", "mph", "kn", "ft/s"},
	"distance":                         {"m", "km", "cm", "mm", "mi", "ft", "in", "yd"},
	"pm25":                             {"µg/m³"},
	"pm10":                             {"µg/m³"},
	"pm1":                              {"µg/m³"},
	"signal_strength":                  {"dB", "dBm"},
	"volatile_organic_compounds_parts": {"ppm", "ppb"},
}

// byName maps quantity names to classes.
var byName = map[string]string{
	"temperature": "temperature", "humidity": "humidity", "moisture": "moisture", "battery": "battery",
	"pressure": "pressure", "voltage": "voltage", "current": "current", "power": "power",
	"energy": "energy", "frequency": "frequency", "co2": "carbon_dioxide", "carbon_dioxide": "carbon_dioxide",
	"lux": "illuminance", "illuminance": "illuminance", "speed": "speed", "altitude": "distance",
	"distance": "distance", "pm25": "pm25", "pm2_5": "pm25", "pm10": "pm10", "pm1": "pm1",
	"rssi": "signal_strength", "voc": "volatile_organic_compounds_parts", "tvoc": "volatile_organic_compounds_parts",
	"eco2":           "carbon_dioxide", // the SGP30's CO₂ equivalent
	"apparent_power": "apparent_power", "reactive_power": "reactive_power", "power_factor": "power_factor",
}

// byUnit maps units that name one class unambiguously.
var byUnit = map[string]string{
	"°C": "temperature", "°F": "temperature", "K": "temperature",
	"Pa": "pressure", "kPa": "pressure", "hPa": "pressure", "mbar": "pressure", "bar": "pressure", "psi": "pressure",
	"V": "voltage", "mV": "voltage", "A": "current", "mA": "current", "W": "power", "kW": "power",
	"Wh": "energy", "kWh": "energy", "Hz": "frequency", "lx": "illuminance", "km/h": "speed", "m/s": "speed",
	"dBm": "signal_strength", "VA": "apparent_power", "kVA": "apparent_power", "var": "reactive_power",
	"kvar": "reactive_power", "MWh": "energy",
}
