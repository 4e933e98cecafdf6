package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// TestGateway_Run_SIGTERM: READY=1 comes once the listeners are bound (a
// client connects right after it), SIGTERM ends the process with status 0,
// and STOPPING=1 is sent on the way out.
func TestGateway_Run_SIGTERM(t *testing.T) {
	p := startGateway(t, baseConfig)
	if !p.notify.has("READY=1") {
		t.Fatalf("no READY=1 (got %q)", p.Notifications())
	}
	connectLocal(t, p, clientOpts{}) // bound by READY=1: no retry needed
	if p.notify.has("STOPPING=1") {
		t.Fatalf("STOPPING=1 before any signal: %q", p.Notifications())
	}
	p.Signal(syscall.SIGTERM)
	err, ok := p.WaitExit(stopWait)
	if !ok {
		t.Fatalf("still running %v after SIGTERM", stopWait)
	}
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0", err)
	}
	p.WaitNotify("STOPPING=1")
}

// TestGateway_Run_SIGINT: SIGINT is a graceful shutdown too.
func TestGateway_Run_SIGINT(t *testing.T) {
	p := startGateway(t, baseConfig)
	p.Signal(syscall.SIGINT)
	err, ok := p.WaitExit(stopWait)
	if !ok || err != nil {
		t.Fatalf("after SIGINT: exited=%v err=%v, want exit status 0", ok, err)
	}
}

// TestGateway_Run_Watchdog: with WATCHDOG_USEC=2000000 the health check
// feeds the watchdog every second (half the timeout): several WATCHDOG=1
// arrive, with a STATUS= line. Without a watchdog it would be every 15 s.
func TestGateway_Run_Watchdog(t *testing.T) {
	p := startGateway(t, baseConfig, "WATCHDOG_USEC=2000000")
	waitFor(t, 30*time.Second, "3 WATCHDOG=1 datagrams", func() bool { return p.notify.count("WATCHDOG=1") >= 3 },
		func() string { return strings.Join(p.Notifications(), " | ") })
	for _, m := range p.Notifications() {
		if strings.Contains(m, "WATCHDOG=1") && !strings.Contains(m, "STATUS=") {
			t.Errorf("WATCHDOG=1 datagram without STATUS=: %q", m)
		}
	}
}

// TestGateway_Restart_Retained: retained messages a client published
// survive a restart on the same data_dir; a retained message cleared with
// an empty payload stays cleared.
func TestGateway_Restart_Retained(t *testing.T) {
	p := startGateway(t, baseConfig)
	c := connectLocal(t, p, clientOpts{})
	c.pub("config/led", 1, true, "on")
	c.pub("config/fan", 1, true, "auto")
	c.pub("config/fan", 1, true, "") // clears config/fan
	c.pub("config/mode", 0, true, "eco")
	// The broker handles one connection's packets in order: once this
	// PUBACK is back, the QoS 0 message above was processed too.
	c.pub("sync", 1, false, "")

	p.Restart()

	s := connectLocal(t, p, clientOpts{})
	s.sub("config/#", 1)
	waitFor(t, mqtttest.DefaultWait, "retained config/led and config/mode after the restart", func() bool {
		return len(s.on("config/led")) > 0 && len(s.on("config/mode")) > 0
	}, func() string { return "got " + topicsOf(s) })
	if m, _ := s.last("config/led"); string(m.Payload) != "on" || !m.Retained {
		t.Errorf("config/led after restart: %q retained=%v, want \"on\" retained", m.Payload, m.Retained)
	}
	if m, _ := s.last("config/mode"); string(m.Payload) != "eco" || !m.Retained {
		t.Errorf("config/mode after restart: %q retained=%v, want \"eco\" retained", m.Payload, m.Retained)
	}
	// Every retained message arrives with the SUBACK batch; a message on
	// an unrelated topic published now arrives after them.
	s.sub("marker", 1)
	c2 := connectLocal(t, p, clientOpts{})
	c2.pub("marker", 1, false, "m")
	s.waitTopic("marker")
	if ms := s.on("config/fan"); len(ms) > 0 {
		t.Errorf("config/fan was cleared before the restart but came back: %q", ms[0].Payload)
	}
}

// TestGateway_Restart_PersistentSession: a clean=false subscription
// survives a gateway restart, and the QoS 1 messages published while the
// client was away (before and after the restart) are delivered when it
// comes back, without subscribing again.
func TestGateway_Restart_PersistentSession(t *testing.T) {
	p := startGateway(t, baseConfig)
	s := connectLocal(t, p, clientOpts{ID: "e2e-persistent", Clean: false})
	s.sub("alerts/#", 1)
	s.Disconnect(100)

	pub := connectLocal(t, p, clientOpts{})
	pub.pub("alerts/before", 1, false, "queued before the restart")

	p.Restart()

	pub = connectLocal(t, p, clientOpts{})
	pub.pub("alerts/after", 1, false, "queued after the restart")
	pub.pub("other/topic", 1, false, "not subscribed")

	back := connectLocal(t, p, clientOpts{ID: "e2e-persistent", Clean: false})
	waitFor(t, mqtttest.DefaultWait, "alerts/after on the resumed session", func() bool { return len(back.on("alerts/after")) > 0 },
		func() string { return topicsOf(back) })
	// A live message on the same subscription proves the subscription
	// itself survived (not just a queued message).
	pub.pub("alerts/live", 1, false, "live")
	back.waitTopic("alerts/live")
	if len(back.on("other/topic")) != 0 {
		t.Errorf("resumed session got a message it never subscribed to")
	}
	if len(back.on("alerts/before")) == 0 {
		t.Errorf("alerts/before (QoS 1, queued for the offline session before the restart) was lost by the restart; got %s", topicsOf(back))
	}
}

func topicsOf(c *client) string {
	var ts []string
	for _, m := range c.messages() {
		ts = append(ts, m.Topic)
	}
	return "[" + strings.Join(ts, " ") + "]"
}

// reloadBefore and reloadAfter are the configs of the SIGHUP test: the
// second adds a sensor and turns on debug logging.
const (
	reloadBefore = baseConfig + `sensors:
  - {name: a, driver: sim, interval: 200ms, quantities: [temperature]}
`
	reloadAfter = `gateway:
  id: e2e
  data_dir: @DATADIR@
log: {level: debug}
broker:
  listeners:
    - address: @ADDR@
  sys_interval: 1s
sensors:
  - {name: a, driver: sim, interval: 200ms, quantities: [temperature]}
  - {name: b, driver: sim, interval: 200ms, quantities: [humidity]}
`
	reloadInvalid = reloadBefore + `colour: blue
`
)

// TestGateway_Reload_SIGHUP: SIGHUP applies a new sensor and a new log level
// without disconnecting local clients; RELOADING=1 then READY=1 are sent.
func TestGateway_Reload_SIGHUP(t *testing.T) {
	p := startGateway(t, reloadBefore)
	c := connectLocal(t, p, clientOpts{})
	c.sub("sensors/#", 1)
	c.waitTopic("sensors/a/temperature")
	connectLocal(t, p, clientOpts{ID: "probe-before", Clean: true})
	if strings.Contains(p.Log(), "client=probe-before") {
		t.Fatalf("debug line logged at level info:\n%s", p.LogTail(20))
	}

	p.WriteConfig(reloadAfter)
	p.Signal(syscall.SIGHUP)
	p.WaitNotify("RELOADING=1")
	waitFor(t, mqtttest.DefaultWait, "readings of the sensor added by the reload", func() bool {
		return len(c.on("sensors/b/humidity")) > 0
	}, func() string { return p.LogTail(30) })
	checkReading(t, "sensors/b/humidity", c.on("sensors/b/humidity")[0].Payload)
	n := len(c.on("sensors/a/temperature"))
	mqtttest.WaitFor(t, func() bool { return len(c.on("sensors/a/temperature")) >= n+2 }, "sensor a still publishing after the reload")

	if lost := c.lost.Load(); lost != 0 || !c.IsConnectionOpen() {
		t.Errorf("local client lost its connection during the reload (lost %d times, open %v)", lost, c.IsConnectionOpen())
	}
	if ready := p.notify.count("READY=1"); ready < 2 {
		t.Errorf("READY=1 sent %d times, want again after the reload", ready)
	}
	connectLocal(t, p, clientOpts{ID: "probe-after", Clean: true})
	waitFor(t, mqtttest.DefaultWait, "a debug log line after log.level: debug was reloaded", func() bool {
		return strings.Contains(p.Log(), "client=probe-after")
	}, func() string { return p.LogTail(20) })
}

// TestGateway_Reload_Invalid: SIGHUP with an invalid file keeps the running
// config (readings continue, clients stay) and logs the error.
func TestGateway_Reload_Invalid(t *testing.T) {
	p := startGateway(t, reloadBefore)
	c := connectLocal(t, p, clientOpts{})
	c.sub("sensors/#", 1)
	c.waitTopic("sensors/a/temperature")

	p.WriteConfig(reloadInvalid)
	p.Signal(syscall.SIGHUP)
	p.WaitLog("reload")
	waitFor(t, mqtttest.DefaultWait, "the log to name the config error", func() bool {
		return strings.Contains(p.Log(), "colour")
	}, func() string { return p.LogTail(20) })

	n := len(c.on("sensors/a/temperature"))
	mqtttest.WaitFor(t, func() bool { return len(c.on("sensors/a/temperature")) >= n+3 },
		"readings to continue under the old config")
	if !p.running() {
		t.Fatalf("gateway exited after an invalid reload: %v", p.ExitErr())
	}
	if lost := c.lost.Load(); lost != 0 {
		t.Errorf("local client lost its connection %d times", lost)
	}
}
