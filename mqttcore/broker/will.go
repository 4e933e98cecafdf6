package broker

// publishWill publishes a client's will message after its connection ended
// without DISCONNECT [MQTT-3.1.2-8]: after an I/O error, a protocol error,
// an expired keepalive, or a takeover that ends its session. The will
// keeps its QoS and RETAIN flag [MQTT-3.1.2-14] [MQTT-3.1.2-17], and
// obeys the same rules as a PUBLISH from the client ($SYS, Authorizer); it
// goes to the hook too, which cannot make the client re-send it.
func (b *Broker) publishWill(c *client) {
	w := c.will
	if isSysTopic(w.Topic) {
		b.stats.dropSys.Add(1)
		return
	}
	if !b.canPublish(c.id, c.username, w.Topic) {
		b.stats.dropDenied.Add(1)
		b.log.Debug("will not authorized", "client", c.id, "topic", w.Topic)
		return
	}
	b.log.Debug("publishing will", "client", c.id, "topic", w.Topic)
	b.seal(b.route(w, nil), nil)
	if hook := b.opts.Hook; hook != nil {
		hook.OnPublish(c.id, w, ignoreDone)
	}
}
