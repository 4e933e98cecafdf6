package sensorstest

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/edgegw/edgegw/sensors"
)

// Message is one published message.
type Message struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
}

// Decode unmarshals the JSON payload into v (a *sensors.Payload or
// *sensors.Status, say).
func (m Message) Decode(v any) error { return json.Unmarshal(m.Payload, v) }

// Publisher is a sensors.Publisher that records every message. The zero
// value is ready to use.
type Publisher struct {
	mu   sync.Mutex
	msgs []Message
	err  error
}

var _ sensors.Publisher = (*Publisher)(nil)

// Publish records the message (copying the payload), or returns the error
// set by SetErr without recording anything.
func (p *Publisher) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.msgs = append(p.msgs, Message{Topic: topic, Payload: append([]byte(nil), payload...), QoS: qos, Retain: retain})
	return nil
}

// SetErr makes Publish fail with err from now on; nil makes it work again.
func (p *Publisher) SetErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

// Messages returns every recorded message, oldest first.
func (p *Publisher) Messages() []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Message(nil), p.msgs...)
}

// Topic returns the recorded messages on topic, oldest first.
func (p *Publisher) Topic(topic string) []Message {
	var out []Message
	for _, m := range p.Messages() {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// Last returns the newest message on topic.
func (p *Publisher) Last(topic string) (Message, bool) {
	msgs := p.Topic(topic)
	if len(msgs) == 0 {
		return Message{}, false
	}
	return msgs[len(msgs)-1], true
}

// States returns the state of each status message on topic (a sensor's
// "<topic>/status"), oldest first, as "<state>:<error>": "ok:",
// "error:ds18b20: … not present". A payload that is not a sensors.Status
// gives ":".
func (p *Publisher) States(topic string) []string {
	var out []string
	for _, m := range p.Topic(topic) {
		var st sensors.Status
		_ = m.Decode(&st)
		out = append(out, st.State+":"+st.Error)
	}
	return out
}

// Reset forgets the recorded messages.
func (p *Publisher) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = nil
}
