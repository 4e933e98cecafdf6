package main

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/sensors"
)

// TestGateway_SensorLog_attributeOnce: a sensor's log lines carry the
// "sensor" attribute once, both the supervisor's and the poller's (here a
// ds18b20 on an empty 1-wire tree: every read fails); a device that cannot
// be opened (a missing I²C bus) is logged in the shared wording.
func TestGateway_SensorLog_attributeOnce(t *testing.T) {
	p := startGateway(t, baseConfig+`sensors:
  - {name: fridge, driver: ds18b20, interval: 100ms, sysfs_root: `+t.TempDir()+`}
  - {name: kitchen, driver: bme280, bus: "99", interval: 100ms}
`)
	p.WaitLog("sensor read failed")
	p.WaitLog(`msg="` + sensors.MsgUnavailable + `" sensor=kitchen`)
	for _, l := range strings.Split(p.Log(), "\n") {
		if strings.Count(l, "sensor=") > 1 {
			t.Errorf("attribute repeated: %s", l)
		}
	}
}
