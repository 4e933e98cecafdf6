package sensors

import (
	"encoding/json"
	"time"
)

// follows returns the subscriptions of a Follower: each topic it follows,
// with the function that decodes a reading published there and passes it
// on.
func (p *Poller) follows() map[string]func(topic string, payload []byte) {
	f, ok := p.sensor.(Follower)
	if !ok {
		return nil
	}
	out := map[string]func(string, []byte){}
	for _, topic := range f.Follows() {
		out[topic] = func(topic string, payload []byte) {
			r, ok := decodeReading(topic, payload)
			if !ok {
				p.log.Debug("followed payload is not a reading", "topic", topic)
				return
			}
			f.Follow(topic, r)
		}
	}
	return out
}

// decodeReading reads a Payload published on "<topic>/<quantity>"; the
// reading's Quantity is the topic's last level.
func decodeReading(topic string, payload []byte) (Reading, bool) {
	var pl struct {
		Value *float64 `json:"value"`
		Unit  string   `json:"unit"`
		TS    string   `json:"ts"`
	}
	if json.Unmarshal(payload, &pl) != nil || pl.Value == nil {
		return Reading{}, false
	}
	r := Reading{Value: *pl.Value, Unit: pl.Unit}
	for i := len(topic) - 1; i >= 0; i-- {
		if topic[i] == '/' {
			r.Quantity = topic[i+1:]
			break
		}
	}
	r.Time, _ = time.Parse(time.RFC3339Nano, pl.TS)
	return r, true
}
