package config

import (
	"fmt"
	"strings"
)

// Summary describes the configuration in one line, for `gateway check`:
// "config ok: gateway pi-kitchen, 2 listeners, bridge to 2 addresses with 3
// rules, 4 sensors".
func (c *Config) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "config ok: gateway %s, %s", c.Gateway.ID, count(len(c.Broker.Listeners), "listener"))
	if c.Bridge == nil {
		b.WriteString(", no bridge")
	} else {
		fmt.Fprintf(&b, ", bridge to %s with %s", count(len(c.Bridge.Addresses), "address"), count(len(c.Bridge.Topics), "rule"))
	}
	fmt.Fprintf(&b, ", %s", count(len(c.Sensors), "sensor"))
	if c.HTTP != nil {
		fmt.Fprintf(&b, ", status page on %s", c.HTTP.Address)
	}
	return b.String()
}

// count formats n things, in the plural unless n is 1.
func count(n int, thing string) string {
	switch {
	case n == 1:
		return "1 " + thing
	case strings.HasSuffix(thing, "s"):
		return fmt.Sprintf("%d %ses", n, thing)
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
