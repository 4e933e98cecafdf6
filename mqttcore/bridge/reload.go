package bridge

import (
	"errors"
	"maps"
	"slices"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// SetRules replaces the topic rules, for a configuration reload, without
// dropping the upstream connection or the queue. Messages already queued keep
// the remote topic they were queued with; new local messages follow the new
// out rules at once. While connected, the upstream subscriptions follow the
// in rules: filters no rule asks for any more are unsubscribed, new ones (or
// ones whose QoS changed) subscribed. Rules that need a queue or a local
// broker the bridge was not built with are refused, and the old rules stay.
func (b *Bridge) SetRules(rules []Rule) error {
	o := b.o
	o.Rules = rules
	if errs := o.validateRules(); len(errs) > 0 {
		return errors.Join(errs...)
	}
	next := append([]Rule(nil), rules...)
	old := *b.rules.Swap(&next)
	if c := b.cur.Load(); c != nil {
		c.resubscribe(inFilters(old), inFilters(next))
	}
	return nil
}

// resubscribe moves the upstream subscriptions from the filters in old to
// those in cur (filter → QoS).
func (c *conn) resubscribe(old, cur map[string]byte) {
	var gone []string
	for _, f := range slices.Sorted(maps.Keys(old)) {
		if _, ok := cur[f]; !ok {
			gone = append(gone, f)
		}
	}
	if len(gone) > 0 {
		id, _ := c.b.ctrl.id()
		c.send(&packet.Unsubscribe{PacketID: id, Filters: gone})
	}
	var subs []packet.Subscription
	for _, f := range slices.Sorted(maps.Keys(cur)) {
		if q, ok := old[f]; !ok || q != cur[f] {
			subs = append(subs, packet.Subscription{Filter: f, QoS: cur[f]})
		}
	}
	if len(subs) > 0 {
		c.send(&packet.Subscribe{PacketID: c.b.ctrl.subscribeID(subs), Subscriptions: subs})
	}
	c.b.log.Info("bridge: rules replaced", "unsubscribed", len(gone), "subscribed", len(subs))
}

// inFilters returns the upstream filters of the in/both rules with their QoS.
func inFilters(rules []Rule) map[string]byte {
	m := make(map[string]byte)
	for _, r := range rules {
		if r.Direction&In != 0 {
			m[r.remoteFilter()] = max(m[r.remoteFilter()], r.QoS)
		}
	}
	return m
}
