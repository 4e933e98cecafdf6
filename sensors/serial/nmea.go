package serial

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/edgegw/edgegw/sensors"
)

// kmhPerKnot converts NMEA speeds (knots) to km/h.
const kmhPerKnot = 1.852

// nmeaParser reads GGA and RMC sentences (NMEA 0183) from any talker.
type nmeaParser struct{}

func (nmeaParser) parse(line string) ([]sensors.Reading, error) {
	fields, err := nmeaFields(line)
	if err != nil {
		return nil, err
	}
	addr := fields[0]
	if len(addr) < 5 || addr[0] == 'P' { // proprietary ($P…) sentences
		return nil, nil
	}
	switch addr[len(addr)-3:] {
	case "GGA":
		return gga(fields)
	case "RMC":
		return rmc(fields)
	}
	return nil, nil
}

// nmeaFields verifies "$<body>*<hh>" and returns the body's fields. The
// checksum is the XOR of every byte between '$' and '*'.
func nmeaFields(line string) ([]string, error) {
	if line[0] != '$' {
		return nil, errors.New("serial: nmea: no leading $")
	}
	star := strings.LastIndexByte(line, '*')
	if star < 0 || len(line)-star != 3 {
		return nil, errors.New("serial: nmea: no *hh checksum")
	}
	want, err := strconv.ParseUint(line[star+1:], 16, 8)
	if err != nil {
		return nil, fmt.Errorf("serial: nmea: checksum %q is not hex", line[star+1:])
	}
	var sum byte
	for i := 1; i < star; i++ {
		sum ^= line[i]
	}
	if sum != byte(want) {
		return nil, fmt.Errorf("%w: computed %02X, sentence says %02X", errChecksum, sum, want)
	}
	return strings.Split(line[1:star], ","), nil
}

// gga reads $--GGA,time,lat,N,lon,E,quality,numSV,HDOP,alt,M,sep,M,age,station.
func gga(f []string) ([]sensors.Reading, error) {
	if len(f) < 11 {
		return nil, fmt.Errorf("serial: nmea: GGA has %d fields, want at least 11", len(f))
	}
	fix, err := strconv.Atoi(f[6])
	if err != nil || fix < 0 || fix > 9 {
		return nil, fmt.Errorf("serial: nmea: GGA fix quality %q", f[6])
	}
	rs := []sensors.Reading{{Quantity: "fix", Value: float64(fix)}}
	if f[7] != "" {
		n, err := strconv.Atoi(f[7])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("serial: nmea: GGA satellites %q", f[7])
		}
		rs = append(rs, sensors.Reading{Quantity: "satellites", Value: float64(n)})
	}
	if fix == 0 || f[2] == "" || f[4] == "" {
		return rs, nil // no position without a fix
	}
	pos, err := position(f[2], f[3], f[4], f[5])
	if err != nil {
		return nil, err
	}
	rs = append(rs, pos...)
	if f[9] != "" {
		alt, err := number(f[9])
		if err != nil {
			return nil, fmt.Errorf("serial: nmea: GGA altitude: %w", err)
		}
		rs = append(rs, sensors.Reading{Quantity: "altitude", Value: alt, Unit: "m"})
	}
	return rs, nil
}

// rmc reads $--RMC,time,status,lat,N,lon,E,knots,course,date,…; status V
// (void) reports nothing.
func rmc(f []string) ([]sensors.Reading, error) {
	if len(f) < 10 {
		return nil, fmt.Errorf("serial: nmea: RMC has %d fields, want at least 10", len(f))
	}
	switch f[2] {
	case "V":
		return nil, nil
	case "A":
	default:
		return nil, fmt.Errorf("serial: nmea: RMC status %q", f[2])
	}
	rs, err := position(f[3], f[4], f[5], f[6])
	if err != nil {
		return nil, err
	}
	if f[7] != "" {
		knots, err := number(f[7])
		if err != nil || knots < 0 {
			return nil, fmt.Errorf("serial: nmea: RMC speed %q", f[7])
		}
		rs = append(rs, sensors.Reading{Quantity: "speed", Value: round(knots*kmhPerKnot, 3), Unit: "km/h"})
	}
	return rs, nil
}

// position returns latitude and longitude readings from NMEA's
// ddmm.mmmm,N and dddmm.mmmm,E fields.
func position(lat, ns, lon, ew string) ([]sensors.Reading, error) {
	la, err := degrees(lat, ns, "N", "S", 90)
	if err != nil {
		return nil, fmt.Errorf("serial: nmea: latitude: %w", err)
	}
	lo, err := degrees(lon, ew, "E", "W", 180)
	if err != nil {
		return nil, fmt.Errorf("serial: nmea: longitude: %w", err)
	}
	return []sensors.Reading{
		{Quantity: "latitude", Value: la, Unit: "°"},
		{Quantity: "longitude", Value: lo, Unit: "°"},
	}, nil
}

// degrees converts "4807.038" and "N" to 48.1173, negative for neg.
func degrees(v, hemi, pos, neg string, limit float64) (float64, error) {
	x, err := number(v)
	if err != nil || x < 0 {
		return 0, fmt.Errorf("%q is not ddmm.mmmm", v)
	}
	deg := math.Floor(x / 100)
	minutes := x - deg*100
	d := deg + minutes/60
	if minutes >= 60 || d > limit {
		return 0, fmt.Errorf("%q is out of range", v)
	}
	d = round(d, 7) // about 1 cm
	switch hemi {
	case pos:
		return d, nil
	case neg:
		return -d, nil
	}
	return 0, fmt.Errorf("hemisphere %q, want %s or %s", hemi, pos, neg)
}
