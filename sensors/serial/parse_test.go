package serial

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/sensors"
)

// nmea wraps a sentence body in "$…*hh" with its checksum.
func nmea(body string) string {
	var sum byte
	for i := 0; i < len(body); i++ {
		sum ^= body[i]
	}
	return fmt.Sprintf("$%s*%02X", body, sum)
}

func TestNMEAChecksum_known(t *testing.T) {
	// Sentences with the checksums printed in the NMEA literature.
	for _, s := range []string{
		"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
		"$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
		"$GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1*39",
	} {
		if _, err := nmeaFields(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
		if got := nmea(s[1:strings.IndexByte(s, '*')]); got != s {
			t.Errorf("helper makes %s, want %s", got, s)
		}
	}
}

type want map[string]float64

func check(t *testing.T, p parser, line string, w want, units map[string]string) {
	t.Helper()
	rs, err := p.parse(line)
	if err != nil {
		t.Fatalf("parse(%q) = %v", line, err)
	}
	got := map[string]sensors.Reading{}
	for _, r := range rs {
		got[r.Quantity] = r
	}
	if len(got) != len(w) {
		t.Fatalf("parse(%q) = %+v, want %v", line, rs, w)
	}
	for q, v := range w {
		if r, ok := got[q]; !ok || r.Value != v || (units != nil && r.Unit != units[q]) {
			t.Errorf("parse(%q): %s = %+v, want %v %s", line, q, got[q], v, units[q])
		}
	}
}

func TestNMEA_parse(t *testing.T) {
	p := nmeaParser{}
	units := map[string]string{"latitude": "°", "longitude": "°", "altitude": "m", "speed": "km/h", "fix": "", "satellites": ""}
	check(t, p, "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
		want{"latitude": 48.1173, "longitude": 11.5166667, "altitude": 545.4, "fix": 1, "satellites": 8}, units)
	check(t, p, "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
		want{"latitude": 48.1173, "longitude": 11.5166667, "speed": 41.485}, units)
	// Southern and western hemispheres, a GNSS talker, NMEA 4.1 RMC fields.
	check(t, p, nmea("GNGGA,001043.00,3351.4920,S,15112.9080,W,2,12,0.8,-3.5,M,20.1,M,,"),
		want{"latitude": -33.8582, "longitude": -151.2151333, "altitude": -3.5, "fix": 2, "satellites": 12}, nil)
	check(t, p, nmea("GNRMC,001043.00,A,3351.4920,S,15112.9080,W,0.0,,221126,,,A,V"),
		want{"latitude": -33.8582, "longitude": -151.2151333, "speed": 0}, nil)
	// No fix: the fix quality and satellites, no position.
	check(t, p, nmea("GPGGA,123519,,,,,0,03,,,M,,M,,"), want{"fix": 0, "satellites": 3}, nil)

	for _, ignored := range []string{
		nmea("GPRMC,123519,V,,,,,,,230394,,,N"),
		nmea("GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00"),
		"$GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1*39",
		nmea("PUBX,00,081350.00,4717.113210,N"),
	} {
		if rs, err := p.parse(ignored); rs != nil || err != nil {
			t.Errorf("parse(%q) = %v, %v; want ignored", ignored, rs, err)
		}
	}

	bad := "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48"
	if _, err := p.parse(bad); !errors.Is(err, errChecksum) {
		t.Errorf("bad checksum: %v, want errChecksum", err)
	}
	for _, garbage := range []string{
		"GPGGA,123519,4807.038,N",                             // no $
		"$GPGGA,123519,4807.038,N",                            // no checksum
		"$GPGGA,123519*zz",                                    // checksum not hex
		nmea("GPGGA,123519,4807.038,N"),                       // too few fields
		nmea("GPGGA,1,4860.5,N,01131.0,E,1,08,0.9,1,M,1,M,,"), // 60.5 minutes
		nmea("GPGGA,1,9107.0,N,01131.0,E,1,08,0.9,1,M,1,M,,"), // latitude 91°
		nmea("GPGGA,1,4807.0,X,01131.0,E,1,08,0.9,1,M,1,M,,"), // hemisphere X
		nmea("GPGGA,1,4807.0,N,01131.0,E,x,08,0.9,1,M,1,M,,"), // fix not a number
		nmea("GPRMC,123519,Q,4807.038,N,01131.000,E,1,1,230394,,"),
		nmea("GPRMC,123519,A,4807.038,N,01131.000,E,NaN,1,230394,,"),
		"\xff$garbage",
	} {
		if rs, err := p.parse(garbage); err == nil || errors.Is(err, errChecksum) {
			t.Errorf("parse(%q) = %v, %v; want a garbage error", garbage, rs, err)
		}
	}
}

func TestJSON_parse(t *testing.T) {
	p := jsonParser{}
	check(t, p, `{"temperature": 21.5, "humidity": 40}`, want{"temperature": 21.5, "humidity": 40}, nil)
	check(t, p, `{"env": {"t": 21, "deep": {"p": 1013.2}}, "id": "abc", "ok": true, "list": [1, 2], "n": null, "v": -1e-3}`,
		want{"env_t": 21, "env_deep_p": 1013.2, "v": -0.001}, nil)
	check(t, p, `{"a/b": 1, "status": 2, "+": 3, "good": 4}`, want{"good": 4}, nil) // unusable names skipped

	deep := strings.Repeat(`{"a":`, 10) + "1" + strings.Repeat("}", 10)
	var many strings.Builder
	many.WriteString("{")
	for i := 0; i < 65; i++ {
		fmt.Fprintf(&many, `"f%d":%d,`, i, i)
	}
	many.WriteString(`"last":1}`)
	for _, garbage := range []string{`[1, 2]`, `{"t": 1`, `{"t": "21.5"}`, `{}`, `{"t": 1} trailing`, `{"t": 1e999}`, deep, many.String(), "hello"} {
		if rs, err := p.parse(garbage); err == nil {
			t.Errorf("parse(%.40q) = %v, want an error", garbage, rs)
		}
	}
}

func TestRegex_parse(t *testing.T) {
	p, err := newRegexParser(`^T=(?P<temperature>-?[0-9.]+)C(?: H=(?P<humidity>[0-9.]+)%)?$`)
	if err != nil {
		t.Fatal(err)
	}
	check(t, p, "T=21.5C H=40%", want{"temperature": 21.5, "humidity": 40}, nil)
	check(t, p, "T=-3C", want{"temperature": -3}, nil) // optional group absent
	for _, garbage := range []string{"T=abcC", "hello", "T=1.2.3C"} {
		if rs, err := p.parse(garbage); err == nil {
			t.Errorf("parse(%q) = %v, want an error", garbage, rs)
		}
	}
	for pattern, wantErr := range map[string]string{
		"":                            "needs a pattern",
		"(unclosed":                   "pattern",
		`T=([0-9]+)`:                  "no named group",
		`(?P<status>[0-9]+)`:          "reserved",
		`(?P<a>[0-9]+) (?P<a>[0-9]+)`: "",
	} {
		_, err := newRegexParser(pattern)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("newRegexParser(%q) = %v, want error with %q", pattern, err, wantErr)
		}
	}
}

func TestLineSplitter_feed(t *testing.T) {
	var l lineSplitter
	var lines []string
	overlong := 0
	feed := func(s string) {
		l.feed([]byte(s), func(b []byte) { lines = append(lines, string(b)) }, func() { overlong++ })
	}
	feed("abc")
	feed("def\r\nxy")
	feed("z\n\nlast")
	feed(strings.Repeat("x", maxLine+1))
	feed(strings.Repeat("y", 10) + "\nok\n")
	want := []string{"abcdef\r", "xyz", "", "ok"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", lines, want)
	}
	if overlong != 1 {
		t.Errorf("overlong = %d, want 1 (the 'last…x…y' line)", overlong)
	}
}

func TestDev_update_quantityLimit(t *testing.T) {
	d, err := New(func() (sensors.SerialPort, error) { return nil, errors.New("unused") }, &Opts{})
	if err != nil {
		t.Fatal(err)
	}
	var rs []sensors.Reading
	for i := 0; i < maxQuantities+10; i++ {
		rs = append(rs, sensors.Reading{Quantity: fmt.Sprintf("q%d", i), Value: 1})
	}
	if kept := d.update(rs); len(kept) != maxQuantities {
		t.Fatalf("admitted %d quantities, want %d", len(kept), maxQuantities)
	}
	kept := d.update([]sensors.Reading{{Quantity: "q0", Value: 2}, {Quantity: "new", Value: 3}})
	if len(kept) != 1 || kept[0].Quantity != "q0" {
		t.Errorf("after the limit: admitted %+v, want only the known q0", kept)
	}
}
