package sensors

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Publisher sends a message. cmd/gateway adapts the broker's inline client
// to it; for QoS ≥ 1 Publish returns once the message is durable.
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error
}

// Subscriber delivers messages on topics matching filter to fn until cancel
// is called. fn must not block for long; the poller only queues the payload.
type Subscriber interface {
	Subscribe(filter string, fn func(topic string, payload []byte)) (cancel func(), err error)
}

// PollerOptions tune a Poller. The zero value works.
type PollerOptions struct {
	// Logger receives the poller's events, with key "sensor". nil discards.
	Logger *slog.Logger

	// Subscriber delivers "<topic>/set" to a sensor that is an Actuator,
	// and "<topic>/<quantity>/set" to a QuantitySetter. nil: they are never
	// driven (logged once at Warn).
	Subscriber Subscriber

	// MaxBackoff caps the delay between retries while Sense fails (the delay
	// starts at Interval and doubles). Default: 10×Interval, at most 5
	// minutes, never below Interval.
	MaxBackoff time.Duration

	// StopTimeout is how long Run waits, once ctx is done, for a Sense, Set
	// or Watch call that ignores ctx. Past it Run returns nil anyway and the
	// stuck call's goroutine halts the sensor whenever the call returns.
	// Default 2s.
	StopTimeout time.Duration

	// Now stamps readings and times MaxInterval. Default time.Now.
	Now func() time.Time

	// ClockSynced reports whether the system clock can be trusted; when it
	// says false, payloads carry "clock":"unsynced". Default
	// SystemClockSynced.
	ClockSynced func() bool
}

// Stats are a poller's counters since it was made.
type Stats struct {
	Reads         uint64 // Sense calls that returned
	Errors        uint64 // failed Sense calls plus rejected readings (NaN, ±Inf, bad quantity)
	Published     uint64 // readings published on "<topic>/<quantity>"
	Suppressed    uint64 // readings held back by a deadband or repeating one already published
	PublishErrors uint64 // Publish calls that failed (readings, status and state)
	Emitted       uint64 // readings a Watcher reported
	WatchErrors   uint64 // Watch calls that returned before cancellation (each restarted with backoff)
	Commands      uint64 // Set and SetQuantity commands received
	CommandErrors uint64 // failed or refused commands plus commands dropped because the queue was full
	Failing       bool   // the last Sense failed
}

// Poller reads one sensor and publishes its readings. It owns the sensor
// from Run until Halt. See the package documentation for the topics.
type Poller struct {
	spec     Spec
	sensor   Sensor
	pub      Publisher
	opts     PollerOptions
	log      *slog.Logger
	topic    string
	timeout  time.Duration
	proc     *processor
	actuator Actuator
	setter   QuantitySetter
	cmder    Commander
	sets     chan command           // "<topic>/set" and "<topic>/<quantity>/set" payloads, for the poll loop
	reads    chan chan<- readResult // ReadNow requests, for the poll loop

	readEdge, pubEdge, watchEdge, emitEdge *edge

	started atomic.Bool
	stats   counters
	last    lastSeen
}

// NewPoller returns a poller for sensor s configured by spec. It starts
// nothing; Run does. An empty spec.Topic means "sensors/<name>"; a zero
// spec.Timeout means Interval.
func NewPoller(spec Spec, s Sensor, pub Publisher, opts PollerOptions) *Poller {
	opts = opts.withDefaults(spec.Interval)
	log := opts.Logger.With("sensor", spec.Name)
	p := &Poller{
		spec:      spec,
		sensor:    s,
		pub:       pub,
		opts:      opts,
		log:       log,
		topic:     spec.TopicOrDefault(),
		timeout:   spec.Timeout,
		proc:      newProcessor(spec.Process),
		reads:     make(chan chan<- readResult),
		readEdge:  &edge{log: log, what: "sensor read"},
		pubEdge:   &edge{log: log, what: "publish"},
		watchEdge: &edge{log: log, what: "sensor watch"},
		emitEdge:  &edge{log: log, what: "watched reading"},
	}
	if p.timeout <= 0 {
		p.timeout = spec.Interval
	}
	return p
}

// Run polls the sensor until ctx is done: the first Sense at once, then every
// Interval (every backoff delay while it fails). A Watcher's Watch runs
// beside the loop; an Actuator gets "<topic>/set" through the Subscriber.
// When ctx is done Run stops the loop and Watch, calls Halt and returns nil;
// it waits at most StopTimeout for a call that ignores ctx (see
// PollerOptions). It returns an error only when it cannot start: a bad spec,
// a failed subscription, or a second call.
func (p *Poller) Run(ctx context.Context) error {
	if err := p.check(); err != nil {
		return err
	}
	if !p.started.CompareAndSwap(false, true) {
		return ErrRunning
	}
	unsubscribe, err := p.subscribe()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { p.pollLoop(ctx) })
	if w, ok := p.sensor.(Watcher); ok {
		wg.Go(func() { p.watchLoop(ctx, w) })
	}
	<-ctx.Done()
	unsubscribe()
	p.stop(&wg)
	return nil
}

// Stats returns a snapshot of the counters.
func (p *Poller) Stats() Stats { return p.stats.snapshot() }

//

func (o PollerOptions) withDefaults(interval time.Duration) PollerOptions {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = max(interval, min(10*interval, 5*time.Minute))
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ClockSynced == nil {
		o.ClockSynced = SystemClockSynced
	}
	return o
}

func (p *Poller) check() error {
	switch {
	case p.sensor == nil:
		return fmt.Errorf("sensors: poller %q: no sensor", p.spec.Name)
	case p.pub == nil:
		return fmt.Errorf("sensors: poller %q: no publisher", p.spec.Name)
	case p.spec.Interval <= 0:
		return fmt.Errorf("sensors: poller %q: interval must be positive, got %v", p.spec.Name, p.spec.Interval)
	}
	return nil
}

// subscribe connects "<topic>/set" to the poll loop when the sensor is an
// Actuator, and "<topic>/<quantity>/set" for each writable quantity of a
// QuantitySetter, and returns the function that disconnects them.
func (p *Poller) subscribe() (cancel func(), err error) {
	filters := map[string]command{} // filter → what its messages are
	if a, ok := p.sensor.(Actuator); ok {
		p.actuator = a
		filters[p.topic+"/set"] = command{}
	}
	if s, ok := p.sensor.(QuantitySetter); ok {
		p.setter = s
		for _, q := range s.Writable() {
			filters[p.topic+"/"+q+"/set"] = command{quantity: q}
		}
	}
	if c, ok := p.sensor.(Commander); ok {
		p.cmder = c
		for _, name := range c.Commands() {
			filters[p.topic+"/"+name] = command{name: name}
		}
	}
	follows := p.follows()
	if len(filters) == 0 && len(follows) == 0 {
		return func() {}, nil
	}
	if p.opts.Subscriber == nil {
		p.log.Warn("sensor has no subscriber; commands and followed readings are ignored")
		return func() {}, nil
	}
	p.sets = make(chan command, commandQueue)
	var cancels []func()
	cancel = func() {
		for _, c := range cancels {
			c()
		}
	}
	for filter, fn := range follows {
		c, err := p.opts.Subscriber.Subscribe(filter, fn)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("sensors: poller %q: subscribe %s: %w", p.spec.Name, filter, err)
		}
		cancels = append(cancels, c)
	}
	for filter, kind := range filters {
		c, err := p.opts.Subscriber.Subscribe(filter, func(topic string, payload []byte) { p.command(topic, kind, payload) })
		if err != nil {
			cancel()
			return nil, fmt.Errorf("sensors: poller %q: subscribe %s: %w", p.spec.Name, filter, err)
		}
		cancels = append(cancels, c)
	}
	return cancel, nil
}

// stop waits for the loops, then halts the sensor. A helper goroutine does
// both so that a call ignoring ctx delays Halt, never Run's return past
// StopTimeout: the helper ends when the stuck call returns.
func (p *Poller) stop(wg *sync.WaitGroup) {
	halted := make(chan struct{})
	go func() {
		defer close(halted)
		wg.Wait()
		if err := p.sensor.Halt(); err != nil {
			p.log.Warn("halt failed", "err", err)
		}
	}()
	t := time.NewTimer(p.opts.StopTimeout)
	defer t.Stop()
	select {
	case <-halted:
	case <-t.C:
		p.log.Error("sensor call ignores cancellation; it will be halted when the call returns",
			"stop_timeout", p.opts.StopTimeout)
	}
}

// command is a payload on "<topic>/set" (quantity and name ""),
// "<topic>/<quantity>/set" or a Commander's "<topic>/<name>".
type command struct {
	quantity string
	name     string
	payload  []byte
}

// commandQueue bounds the "<topic>/set" payloads waiting for the poll loop.
const commandQueue = 16

// counters are the atomic fields behind Stats.
type counters struct {
	reads, errors, published, suppressed, publishErrors atomic.Uint64
	emitted, watchErrors, commands, commandErrors       atomic.Uint64
	failing                                             atomic.Bool
}

func (c *counters) snapshot() Stats {
	return Stats{
		Reads:         c.reads.Load(),
		Errors:        c.errors.Load(),
		Published:     c.published.Load(),
		Suppressed:    c.suppressed.Load(),
		PublishErrors: c.publishErrors.Load(),
		Emitted:       c.emitted.Load(),
		WatchErrors:   c.watchErrors.Load(),
		Commands:      c.commands.Load(),
		CommandErrors: c.commandErrors.Load(),
		Failing:       c.failing.Load(),
	}
}
