package sensorstest

import (
	"errors"
	"strings"
	"sync"

	"github.com/edgegw/edgegw/sensors"
)

// Subscriber is a sensors.Subscriber the test drives with Deliver. The zero
// value is ready to use.
type Subscriber struct {
	// Err, when set before Subscribe, makes it fail.
	Err error

	mu   sync.Mutex
	subs map[int]subscription
	next int
}

type subscription struct {
	filter string
	fn     func(topic string, payload []byte)
}

var _ sensors.Subscriber = (*Subscriber)(nil)

// Subscribe registers fn for filter (MQTT '+' and '#' wildcards).
func (s *Subscriber) Subscribe(filter string, fn func(topic string, payload []byte)) (func(), error) {
	if fn == nil {
		return nil, errors.New("sensorstest: nil callback")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	if s.subs == nil {
		s.subs = map[int]subscription{}
	}
	id := s.next
	s.next++
	s.subs[id] = subscription{filter: filter, fn: fn}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(s.subs, id)
		})
	}, nil
}

// Deliver calls every callback whose filter matches topic, on the caller's
// goroutine, and returns how many it called.
func (s *Subscriber) Deliver(topic string, payload []byte) int {
	s.mu.Lock()
	var fns []func(string, []byte)
	for _, sub := range s.subs {
		if match(sub.filter, topic) {
			fns = append(fns, sub.fn)
		}
	}
	s.mu.Unlock()
	for _, fn := range fns {
		fn(topic, payload)
	}
	return len(fns)
}

// Filters returns the filters subscribed now.
func (s *Subscriber) Filters() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, sub := range s.subs {
		out = append(out, sub.filter)
	}
	return out
}

//

// match reports whether topic name matches filter (MQTT 3.1.1 §4.7).
func match(filter, name string) bool {
	f, n := strings.Split(filter, "/"), strings.Split(name, "/")
	for i, level := range f {
		switch {
		case level == "#":
			return true
		case i >= len(n):
			return false
		case level != "+" && level != n[i]:
			return false
		}
	}
	return len(f) == len(n)
}
