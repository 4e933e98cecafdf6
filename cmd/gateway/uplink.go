package main

import (
	"context"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// sysOrigin is the inline-client name the gateway's own $SYS topics are
// published under.
const sysOrigin = "$sys"

// uplinkStateTopic is the local, retained uplink state: "connected",
// "disconnected", or "none" without a bridge.
const uplinkStateTopic = "$SYS/gateway/uplink/state"

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
