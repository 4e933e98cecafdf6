package sensorstest

import (
	"context"
	"sync"
	"time"

	"github.com/edgegw/edgegw/sensors"
)

// Step is one scripted outcome of Sense.
type Step struct {
	Readings []sensors.Reading
	Err      error
	// Block, when non-nil, makes Sense wait until it is closed, or until ctx
	// is done (then Sense returns ctx.Err()) unless IgnoreCtx is set.
	Block     <-chan struct{}
	IgnoreCtx bool
}

// Sensor is a scripted sensors.Sensor. Each Sense call plays the next Step;
// once the script is exhausted the last Step repeats (with no steps at all,
// Sense returns nothing). It counts calls and notices overlapping calls,
// which the poller promises never to make.
type Sensor struct {
	// HaltErr is what Halt returns.
	HaltErr error

	mu       sync.Mutex
	steps    []Step
	next     int
	senses   int
	times    []time.Time
	halts    int
	active   int
	overlaps int
}

var _ sensors.Sensor = (*Sensor)(nil)

// NewSensor returns a sensor that plays steps in order.
func NewSensor(steps ...Step) *Sensor { return &Sensor{steps: steps} }

// Push appends steps to the script.
func (s *Sensor) Push(steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, steps...)
}

// Sense plays the next step.
func (s *Sensor) Sense(ctx context.Context) ([]sensors.Reading, error) {
	defer s.enter()()
	s.mu.Lock()
	s.senses++
	s.times = append(s.times, time.Now())
	var st Step
	if len(s.steps) > 0 {
		st = s.steps[min(s.next, len(s.steps)-1)]
		s.next++
	}
	s.mu.Unlock()
	if st.Block != nil {
		if st.IgnoreCtx {
			<-st.Block
		} else {
			select {
			case <-st.Block:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	return append([]sensors.Reading(nil), st.Readings...), st.Err
}

// Halt counts the call and returns HaltErr.
func (s *Sensor) Halt() error {
	defer s.enter()()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.halts++
	return s.HaltErr
}

// Senses returns how many Sense calls started.
func (s *Sensor) Senses() int { return s.read(&s.senses) }

// SenseTimes returns when each Sense call started (time.Now, which is the
// fake clock inside a testing/synctest bubble).
func (s *Sensor) SenseTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}

// Halts returns how many times Halt was called.
func (s *Sensor) Halts() int { return s.read(&s.halts) }

// Overlaps returns how many Sense, Set or Halt calls started while another
// was running.
func (s *Sensor) Overlaps() int { return s.read(&s.overlaps) }

//

// enter marks a call as running and returns the function that ends it.
func (s *Sensor) enter() (leave func()) {
	s.mu.Lock()
	s.active++
	if s.active > 1 {
		s.overlaps++
	}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}
}

func (s *Sensor) read(n *int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *n
}

// WatchSensor is a Sensor that is also a sensors.Watcher. Watch reports what
// the test passes to Emit and returns the error passed to Fail.
type WatchSensor struct {
	*Sensor
	emits   chan []sensors.Reading
	fails   chan error
	mu      sync.Mutex
	watches int
}

var _ sensors.Watcher = (*WatchSensor)(nil)

// NewWatchSensor returns a watching sensor whose Sense plays steps.
func NewWatchSensor(steps ...Step) *WatchSensor {
	return &WatchSensor{Sensor: NewSensor(steps...), emits: make(chan []sensors.Reading), fails: make(chan error)}
}

// Watch blocks until ctx is done (returning nil) or Fail is called,
// reporting each Emit.
func (w *WatchSensor) Watch(ctx context.Context, emit func([]sensors.Reading)) error {
	w.mu.Lock()
	w.watches++
	w.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return nil
		case rs := <-w.emits:
			emit(rs)
		case err := <-w.fails:
			return err
		}
	}
}

// Emit hands readings to the running Watch and waits until it took them,
// or until ctx is done (then it reports false).
func (w *WatchSensor) Emit(ctx context.Context, rs ...sensors.Reading) bool {
	select {
	case w.emits <- rs:
		return true
	case <-ctx.Done():
		return false
	}
}

// Fail makes the running Watch return err, waiting until it took it or ctx
// is done (then it reports false).
func (w *WatchSensor) Fail(ctx context.Context, err error) bool {
	select {
	case w.fails <- err:
		return true
	case <-ctx.Done():
		return false
	}
}

// Watches returns how many times Watch was called.
func (w *WatchSensor) Watches() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.watches
}

// ActuatorSensor is a Sensor that is also a sensors.Actuator: Set records
// the payload and returns what SetFunc returns.
type ActuatorSensor struct {
	*Sensor
	setFunc  func(payload []byte) ([]sensors.Reading, error)
	mu       sync.Mutex
	payloads [][]byte
}

var _ sensors.Actuator = (*ActuatorSensor)(nil)

// NewActuatorSensor returns an actuator whose Set calls set and whose Sense
// plays steps.
func NewActuatorSensor(set func(payload []byte) ([]sensors.Reading, error), steps ...Step) *ActuatorSensor {
	return &ActuatorSensor{Sensor: NewSensor(steps...), setFunc: set}
}

// Set records payload and calls the set function.
func (a *ActuatorSensor) Set(ctx context.Context, payload []byte) ([]sensors.Reading, error) {
	defer a.enter()()
	a.mu.Lock()
	a.payloads = append(a.payloads, append([]byte(nil), payload...))
	a.mu.Unlock()
	return a.setFunc(payload)
}

// Payloads returns the payloads Set received, in order.
func (a *ActuatorSensor) Payloads() [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][]byte(nil), a.payloads...)
}
