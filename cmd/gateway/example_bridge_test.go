package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// TestExamples_BridgeYAML_outageRecipe: examples/bridge.yaml, as the
// README's "try an outage" recipe uses it (its addresses pointed at a
// Mosquitto behind the fault proxy): readings reach the upstream, an outage
// queues them, and after it the log reports the drained backlog and the
// queued readings arrive.
func TestExamples_BridgeYAML_outageRecipe(t *testing.T) {
	raw, err := os.ReadFile("../../examples/bridge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	up := mqtttest.StartMosquitto(t, "")
	px := mqtttest.NewProxy(t, up)
	cfg := strings.NewReplacer("127.0.0.1:1883", "@ADDR@", "./data/demo-bridge", "@DATADIR@",
		"tcp://127.0.0.1:1884", "tcp://"+px.Addr()).Replace(string(raw))
	sub := mqtttest.Subscribe(t, up, "gateways/demo-bridge/sensors/#")
	p := startGateway(t, cfg)
	mqtttest.WaitFor(t, func() bool { return sub.Count("gateways/demo-bridge/sensors/demo/temperature") > 0 }, "a reading upstream")

	px.SetMode(mqtttest.Reset)
	p.WaitLog("bridge: uplink lost")
	time.Sleep(2500 * time.Millisecond) // two or three readings queue
	before := sub.Count("gateways/demo-bridge/sensors/demo/temperature")
	px.SetMode(mqtttest.Pass)
	if line := p.WaitLog("bridge: backlog drained"); strings.Contains(line, "queued=0 ") {
		t.Errorf("nothing queued during a 2.5s outage: %s", line)
	}
	mqtttest.WaitFor(t, func() bool { return sub.Count("gateways/demo-bridge/sensors/demo/temperature") >= before+2 },
		"the queued readings upstream")
}
