package hass

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/edgegw/edgegw/sensors"
)

// Announcer is a sensors.Publisher for one sensor's poller that publishes a
// quantity's discovery config (retained) just before its first reading, with
// the unit that reading carries. It forwards everything to the wrapped
// Publisher. A config whose publish fails is tried again with the next
// reading. Safe for concurrent use.
type Announcer struct {
	pub    sensors.Publisher
	prefix string
	gw     Gateway
	spec   sensors.Spec
	base   string

	mu   sync.Mutex
	done map[string]bool // announced quantities ("" for a switch)
}

var _ sensors.Publisher = (*Announcer)(nil)

// NewAnnouncer wraps pub for the sensor spec describes.
func NewAnnouncer(pub sensors.Publisher, prefix string, gw Gateway, spec sensors.Spec) *Announcer {
	return &Announcer{pub: pub, prefix: prefix, gw: gw, spec: spec, base: spec.TopicOrDefault(), done: map[string]bool{}}
}

// Publish announces the quantity topic belongs to, if new, then publishes
// the message. The error joins both failures.
func (a *Announcer) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	var errAnnounce error
	if q, ok := a.pending(topic); ok {
		errAnnounce = a.announce(ctx, q, payload)
	}
	return errors.Join(a.pub.Publish(ctx, topic, payload, qos, retain), errAnnounce)
}

// AnnounceQuantities publishes the discovery configs of qs at once (a
// sensor's known quantities, before any reading) and marks them announced.
func (a *Announcer) AnnounceQuantities(ctx context.Context, qs []sensors.Quantity) error {
	names := make([]string, len(qs))
	for i, q := range qs {
		names[i] = q.Name
	}
	return a.publish(ctx, qs, names...)
}

//

// pending returns the quantity of topic when it still needs announcing. A
// gpio_out sensor is one switch, announced with its first message.
func (a *Announcer) pending(topic string) (string, bool) {
	q, ok := strings.CutPrefix(topic, a.base+"/")
	switch {
	case !ok:
		return "", false
	case a.spec.Driver == driverGPIOOut:
		q = ""
	case strings.Contains(q, "/") || q == "status" || q == "set":
		return "", false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return q, !a.done[q]
}

// announce publishes the config of quantity q ("": a gpio_out sensor's
// switch), with the unit of the reading payload.
func (a *Announcer) announce(ctx context.Context, q string, payload []byte) error {
	if q == "" {
		return a.publish(ctx, nil, q)
	}
	var p sensors.Payload
	_ = json.Unmarshal(payload, &p) // no unit if it is not a reading
	return a.publish(ctx, []Quantity{{Name: q, Unit: p.Unit}}, q)
}

// publish publishes the discovery configs of the sensor with quantities qs,
// then marks names announced.
func (a *Announcer) publish(ctx context.Context, qs []Quantity, names ...string) error {
	msgs, err := Discovery(a.prefix, a.gw, []Sensor{{Spec: a.spec, Quantities: qs}})
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := a.pub.Publish(ctx, m.Topic, m.Payload, a.spec.QoS, m.Retain); err != nil {
			return fmt.Errorf("hass: announce %s: %w", m.Topic, err)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, n := range names {
		a.done[n] = true
	}
	return nil
}
