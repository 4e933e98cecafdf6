package bridge

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// errClosed is the cause of a connection closed by the bridge itself.
var errClosed = errors.New("bridge: connection closed")

// serve runs one connection until it fails or ctx ends, and returns why it
// ended. On ctx's end it says goodbye: offline status, DISCONNECT.
func (b *Bridge) serve(ctx context.Context, c *conn) error {
	c.start()
	c.publishStatus("online", "")
	c.subscribe()
	if !b.setOnline(c) { // made with settings SetUpstream replaced meanwhile
		c.cancel(errUpstreamChanged)
		c.wg.Wait()
		return errUpstreamChanged
	}
	outage, backlog := b.noteUp()
	defer func() {
		b.setOffline(c)
		b.noteDown(ctx)
	}()
	if outage > 0 {
		b.log.Info("bridge: connected", "address", c.addr.raw, "session_present", c.sessionPresent,
			"outage", outage.Round(time.Millisecond), "backlog", backlog)
	} else {
		b.log.Info("bridge: connected", "address", c.addr.raw, "session_present", c.sessionPresent)
	}

	if c.ver == packet.V5 {
		b.log.Info("bridge: MQTT 5 upstream limits", "inflight", c.lim.window, "maximum_packet_size", c.lim.maxPacket,
			"keepalive", c.lim.keepAlive, "topic_alias_maximum", c.lim.aliasMax)
	}

	work, stopWork := context.WithCancel(c.ctx)
	defer stopWork()
	unhook := context.AfterFunc(ctx, stopWork)
	defer unhook()
	var ww sync.WaitGroup
	ww.Go(func() {
		if err := c.drain(work); err != nil {
			c.cancel(err)
		}
	})
	ww.Go(func() { c.metricsLoop(work) })
	if outage > 0 {
		ww.Go(func() { c.watchDrain(work) })
	}

	select {
	case <-ctx.Done():
		stopWork()
		ww.Wait()
		c.goodbye()
	case <-c.ctx.Done():
	}
	stopWork()
	ww.Wait()
	c.cancel(errClosed)
	c.wg.Wait()
	return context.Cause(c.ctx)
}

// goodbye publishes the offline status, waits for its PUBACK and sends
// DISCONNECT (so the upstream does not publish the will), all within
// Options.ShutdownTimeout.
func (c *conn) goodbye() {
	ctx, cancel := context.WithTimeout(c.ctx, c.b.o.ShutdownTimeout)
	defer cancel()
	acked := c.publishStatus("offline", "shutdown")
	select {
	case <-acked:
	case <-ctx.Done():
		c.b.log.Warn("bridge: offline status not acknowledged before shutdown", "address", c.addr.raw)
	}
	if c.sendCtx(ctx, &packet.Disconnect{}) {
		<-ctx.Done() // the writer ends the connection after the DISCONNECT
	}
	c.b.log.Info("bridge: disconnected", "address", c.addr.raw)
}
