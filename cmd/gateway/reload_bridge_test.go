package main

import (
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// TestGateway_Reload_BridgeRules: SIGHUP with changed bridge topic rules
// applies them on the running uplink: a new out rule forwards, the removed
// one stops, a new in rule delivers downlink — with no reconnect upstream
// (one "online" status) and the local client still connected.
func TestGateway_Reload_BridgeRules(t *testing.T) {
	up := mqtttest.StartMosquitto(t, "")
	upSub := mqtttest.Subscribe(t, up, "#")
	before := bridgeConfig(up, 1)
	p := startGateway(t, before)
	waitState(t, upSub, "online")
	local := connectLocal(t, p, clientOpts{})
	local.sub("ctl/#", 1)

	after := strings.Replace(before, `{pattern: "sensors/#", direction: out, qos: 1, remote_prefix: "gw/"}`,
		`{pattern: "metrics/#", direction: out, qos: 1, remote_prefix: "gw2/"}`, 1)
	after = strings.Replace(after, `{pattern: "cmd/#", direction: in`, `{pattern: "ctl/#", direction: in`, 1)
	if after == before {
		t.Fatal("test config did not change")
	}
	p.WriteConfig(after)
	p.Signal(syscall.SIGHUP)
	p.WaitLog("bridge: rules replaced")

	upPub := connect(t, "tcp://"+up, clientOpts{})
	i := 0
	waitFor(t, statusWait, "ctl/x downlink through the reloaded in rule", func() bool {
		upPub.pub("gw/ctl/x", 1, false, "go")
		i++
		return mqtttest.Poll(300*time.Millisecond, func() bool { return len(local.on("ctl/x")) > 0 })
	}, func() string { return p.LogTail(20) })

	local.pub("sensors/old", 1, false, "old rule")
	local.pub("metrics/new", 1, false, "new rule")
	waitFor(t, drainWait, "gw2/metrics/new upstream", func() bool { return len(upSub.On("gw2/metrics/new")) == 1 },
		func() string { return p.LogTail(20) })
	if n := len(upSub.On("gw/sensors/old")); n != 0 {
		t.Errorf("the removed out rule still forwarded %d messages", n)
	}
	if n := len(upSub.On(statusTopic)); n != 1 {
		t.Errorf("upstream saw %d status messages: the reload reconnected the bridge", n)
	}
	if lost := local.lost.Load(); lost != 0 {
		t.Errorf("the local client was disconnected %d times by the reload", lost)
	}
}

// TestGateway_Reload_Listeners: SIGHUP with a changed listener section
// rebinds only what changed: the client of the unchanged listener stays
// connected, the dropped WebSocket port closes, the new port serves.
func TestGateway_Reload_Listeners(t *testing.T) {
	const listeners = `gateway:
  id: e2e
  data_dir: @DATADIR@
broker:
  listeners:
    - address: @ADDR@
`
	p := startGateway(t, listeners+`    - {address: "@WSADDR@", websocket: {path: /mqtt}}
`)
	c := connectLocal(t, p, clientOpts{})
	c.sub("x/#", 1)
	added := mqtttest.FreeAddr(t)
	p.WriteConfig(listeners + `    - address: ` + added + "\n")
	p.Signal(syscall.SIGHUP)
	p.WaitLog("reload: listeners applied")

	other := connect(t, "tcp://"+added, clientOpts{})
	other.pub("x/1", 1, false, "via the new listener")
	waitFor(t, statusWait, "x/1 through the new listener", func() bool { return len(c.on("x/1")) == 1 },
		func() string { return p.LogTail(20) })
	if lost := c.lost.Load(); lost != 0 {
		t.Errorf("the client of the unchanged listener was disconnected %d times", lost)
	}
	if conn, err := net.DialTimeout("tcp", p.WSAddr, time.Second); err == nil {
		conn.Close()
		t.Errorf("the removed WebSocket listener %s still accepts connections", p.WSAddr)
	}
}
