package ds18b20

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Limits of the chip, and its power-on value, in millidegrees Celsius.
const (
	minMilli        = -55000
	maxMilli        = 125000
	powerOnResetMil = 85000
)

// maxFile bounds what is read from a sysfs file (w1_slave is ~75 bytes).
const maxFile = 4096

// readTemperature parses the "temperature" attribute: millidegrees.
func readTemperature(path string) (int, error) {
	b, err := readSmall(path)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%w: temperature %q", ErrBadData, s)
	}
	return n, nil
}

// readW1Slave parses the "w1_slave" attribute:
//
//	72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//	72 01 4b 46 7f ff 0e 10 57 t=23125
func readW1Slave(path string) (int, error) {
	b, err := readSmall(path)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return 0, fmt.Errorf("%w: w1_slave has %d lines, want 2", ErrBadData, len(lines))
	}
	crcLine := strings.TrimSpace(lines[0])
	switch {
	case strings.HasSuffix(crcLine, "NO"):
		return 0, ErrCRC
	case !strings.HasSuffix(crcLine, "YES"):
		return 0, fmt.Errorf("%w: w1_slave CRC line %q", ErrBadData, crcLine)
	case allZero(crcLine):
		return 0, fmt.Errorf("%w: all-zero scratchpad (bus shorted or probe unpowered?)", ErrBadData)
	}
	_, t, ok := strings.Cut(lines[1], "t=")
	if !ok {
		return 0, fmt.Errorf("%w: w1_slave has no t= in %q", ErrBadData, lines[1])
	}
	n, err := strconv.Atoi(strings.TrimSpace(t))
	if err != nil {
		return 0, fmt.Errorf("%w: w1_slave t=%q", ErrBadData, t)
	}
	return n, nil
}

// check rejects values no working DS18B20 reports.
func check(milli int) error {
	switch {
	case milli == powerOnResetMil:
		return ErrPowerOnReset
	case milli < minMilli || milli > maxMilli:
		return fmt.Errorf("%w: %d m°C is outside −55…125 °C", ErrBadData, milli)
	}
	return nil
}

// allZero reports whether the 9 scratchpad bytes before " : crc=" are all 00
// (their CRC is 00 too, so the kernel says YES).
func allZero(crcLine string) bool {
	bytes, _, _ := strings.Cut(crcLine, ":")
	fields := strings.Fields(bytes)
	if len(fields) == 0 {
		return false
	}
	for _, f := range fields {
		if f != "00" {
			return false
		}
	}
	return true
}

func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFile))
}
