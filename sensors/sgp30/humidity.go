package sgp30

import (
	"math"
	"time"

	"github.com/edgegw/edgegw/sensors"
)

// AbsoluteHumidity returns the water vapour density in g/m³ of air at t °C
// and rh % relative humidity (datasheet section 3.15, equation 1, the
// Magnus formula):
//
//	dv = 216.7 × (rh/100 × 6.112 × exp(17.62 t / (243.12 + t))) / (273.15 + t)
func AbsoluteHumidity(t, rh float64) float64 {
	return 216.7 * (rh / 100 * 6.112 * math.Exp(17.62*t/(243.12+t))) / (273.15 + t)
}

// HumidityWord encodes an absolute humidity in g/m³ for
// set_absolute_humidity: 8.8 fixed point (the high byte the integer part,
// the low byte the fraction in 1/256), from 1/256 to 255 + 255/256 g/m³. 0
// turns compensation off, so a positive humidity never rounds to it.
func HumidityWord(ah float64) uint16 {
	switch {
	case !(ah > 0): // also NaN
		return 0
	case ah >= 0xFFFF/256.0:
		return 0xFFFF
	}
	return max(1, uint16(math.Round(ah*256)))
}

// Follows lists the companion sensor's temperature and humidity topics
// (see sensors.Follower); nil without a companion.
func (d *Dev) Follows() []string {
	if d.companion == "" {
		return nil
	}
	return []string{d.companion + "/temperature", d.companion + "/humidity"}
}

// Follow takes the companion's temperature (°C, °F or K) and relative
// humidity (%); other units are ignored.
func (d *Dev) Follow(_ string, r sensors.Reading) {
	v, ok := r.Value, true
	switch {
	case r.Quantity == "humidity" && r.Unit == "%":
	case r.Quantity == "temperature" && r.Unit == "°C":
	case r.Quantity == "temperature" && r.Unit == "°F":
		v = (v - 32) * 5 / 9
	case r.Quantity == "temperature" && r.Unit == "K":
		v -= 273.15
	default:
		ok = false
	}
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.Quantity == "humidity" {
		d.rh, d.rhAt = v, d.now()
	} else {
		d.temp, d.tempAt = v, d.now()
	}
}

//

// companionMaxAge is how old the companion's readings may be: past it,
// compensation is turned off rather than done with stale air.
const companionMaxAge = 10 * time.Minute

// humidityWord returns the set_absolute_humidity word for now, and whether
// compensation is configured at all.
func (d *Dev) humidityWord() (w uint16, configured bool) {
	if d.fixedAH > 0 {
		return HumidityWord(d.fixedAH), true
	}
	if d.companion == "" {
		return 0, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if d.tempAt.IsZero() || d.rhAt.IsZero() || now.Sub(d.tempAt) > companionMaxAge || now.Sub(d.rhAt) > companionMaxAge {
		return 0, true
	}
	return HumidityWord(AbsoluteHumidity(d.temp, d.rh)), true
}
