package main

import (
	"context"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/sensors"
)

// sysOrigin is the inline-client name the gateway's own $SYS topics are
// published under.
const sysOrigin = "$sys"

// uplinkStateTopic is the local, retained uplink state: "connected",
// "disconnected", or "none" without a bridge.
const uplinkStateTopic = "$SYS/gateway/uplink/state"

// sensorsOfflineBudget bounds the offline statuses published at shutdown.
const sensorsOfflineBudget = 2 * time.Second

// uplinkState publishes uplinkStateTopic at once and again at every change
// of the bridge's state, until ctx is done (the $SYS loop's interval would
// leave it stale for up to broker.sys_interval).
func (g *gateway) uplinkState(ctx context.Context) error {
	for {
		changed := g.bridge.StateChanged()
		g.publishUplinkState(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// publishUplinkState publishes the bridge's current state.
func (g *gateway) publishUplinkState(ctx context.Context) {
	state := "disconnected"
	if g.bridge.Stats().Connected {
		state = "connected"
	}
	err := g.broker.Publish(ctx, sysOrigin, &packet.Publish{Topic: uplinkStateTopic, Payload: []byte(state), Retain: true})
	if err != nil {
		g.log.Warn("publish uplink state", "err", err)
	}
}

// publishSensorsOffline sets every configured sensor's <topic>/status to
// {"state":"offline"} (retained, at the sensor's QoS, so a bridge rule sends
// it upstream too), after the sensors stopped and before the bridge does.
// With the uplink up it waits, within sensorsOfflineBudget, until the
// upstream acknowledged as many messages (otherwise they stay queued and go
// up at the next start).
func (g *gateway) publishSensorsOffline() {
	ctx, cancel := context.WithTimeout(context.Background(), sensorsOfflineBudget)
	defer cancel()
	cfg := g.config()
	var forwarded uint64
	if g.bridge != nil {
		forwarded = g.bridge.Stats().Forwarded
	}
	payload := sensors.MarshalOffline(time.Now())
	upstream := uint64(0) // statuses a bridge rule sends upstream
	for i, s := range cfg.Sensors {
		spec := sensorSpec(cfg.File, i, s)
		p := &packet.Publish{Topic: spec.TopicOrDefault() + "/status", Payload: payload, QoS: spec.QoS, Retain: true}
		if g.bridge != nil && g.bridge.Forwards(p.Topic) {
			upstream++
		}
		if err := g.broker.Publish(ctx, sensorOrigin, p); err != nil {
			g.log.Warn("publish offline status", "sensor", spec.Name, "err", err)
		}
	}
	if upstream == 0 {
		return
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for g.bridge.Stats().Connected && g.bridge.Stats().Forwarded-forwarded < upstream {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
