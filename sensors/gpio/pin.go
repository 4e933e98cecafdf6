package gpio

import (
	"errors"
	"fmt"
	"strings"

	"periph.io/x/conn/v3/gpio"
)

// ErrPinName is returned by ValidatePinName for a name periph would never
// accept.
var ErrPinName = errors.New("gpio: bad pin name")

// maxPinName bounds pin names; periph's longest (function aliases such as
// "SPI0_MOSI") are far shorter.
const maxPinName = 32

// ValidatePinName checks, without hardware, that name has a shape periph's
// gpioreg.ByName can resolve. periph names are case-sensitive. Accepted:
//
//   - a GPIO number: "17"
//   - a chipset name: "GPIO" and a number, "GPIO17"
//   - a header position: "P", connector number, "_", pin number, "P1_11"
//   - any other alias periph registers: an upper-case letter, then upper-case
//     letters, digits and "_", such as "I2C1_SDA" or "PWM0_OUT"
//
// Whether the pin exists is only known on the board: Open reports that.
func ValidatePinName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrPinName)
	case len(name) > maxPinName:
		return fmt.Errorf("%w: %q is longer than %d characters", ErrPinName, name, maxPinName)
	case isDigits(name):
		return nil
	case strings.HasPrefix(name, "GPIO"):
		if !isDigits(name[len("GPIO"):]) {
			return fmt.Errorf("%w: %q: GPIO must be followed by a number, like GPIO17", ErrPinName, name)
		}
		return nil
	case isHeaderPin(name):
		return nil
	case isAlias(name):
		return nil
	case isAlias(strings.ToUpper(name)):
		return fmt.Errorf("%w: %q: pin names are case-sensitive; did you mean %q?", ErrPinName, name, strings.ToUpper(name))
	}
	return fmt.Errorf("%w: %q: want GPIO<n>, P<connector>_<pin>, a number or an upper-case alias", ErrPinName, name)
}

// ParseLevel reads an on/off word: on, 1, true (High) or off, 0, false (Low),
// in any case, surrounding white space ignored.
func ParseLevel(s string) (gpio.Level, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "1", "true":
		return gpio.High, true
	case "off", "0", "false":
		return gpio.Low, true
	}
	return gpio.Low, false
}

//

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isHeaderPin matches P<digits>_<digits>, e.g. P1_11.
func isHeaderPin(s string) bool {
	conn, pin, ok := strings.Cut(strings.TrimPrefix(s, "P"), "_")
	return ok && strings.HasPrefix(s, "P") && isDigits(conn) && isDigits(pin)
}

// isAlias matches an upper-case identifier such as I2C1_SDA.
func isAlias(s string) bool {
	for i, c := range s {
		switch {
		case c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return s != ""
}

func levelValue(l gpio.Level) float64 {
	if l {
		return 1
	}
	return 0
}

func levelWord(l gpio.Level) string {
	if l {
		return "on"
	}
	return "off"
}
