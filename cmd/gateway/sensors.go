package main

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/edgegw/edgegw/config"
	"github.com/edgegw/edgegw/mqttcore/packet"
	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/hass"
)

// sensorOrigin is the inline-client name sensor readings are published under.
const sensorOrigin = "$sensors"

// sensorSet is the running sensors of one configuration: one supervisor
// goroutine per entry, which opens the device (retrying with backoff while it
// is missing) and then runs its poller.
type sensorSet struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	pollers map[string]*sensors.Poller // by sensor name, once opened
	failing map[string]bool            // open failures, by sensor name
	openErr map[string]error           // the last open failure, by sensor name
	running map[string]bool            // supervisors that have not returned
}

// startSensors starts the sensors of cfg.
func (g *gateway) startSensors(cfg *config.Config) {
	ctx, cancel := context.WithCancel(context.Background())
	set := &sensorSet{cancel: cancel, pollers: map[string]*sensors.Poller{}, failing: map[string]bool{}, openErr: map[string]error{}, running: map[string]bool{}}
	for i := range cfg.Sensors {
		spec := sensorSpec(cfg, i)
		set.wg.Add(1)
		set.running[spec.Name] = true
		go func() {
			defer set.wg.Done()
			defer set.setRunning(spec.Name, false)
			g.superviseSensor(ctx, set, spec)
		}()
	}
	g.mu.Lock()
	g.sensors = set
	g.mu.Unlock()
}

// stopSensors stops the running sensors and waits for them (their pollers
// halt the devices).
func (g *gateway) stopSensors() { g.stopSensorsWithin(0) }

// stopSensorsWithin is stopSensors that waits at most budget (0: no bound)
// and then logs the sensors still running (e.g. stuck in a blocking read).
func (g *gateway) stopSensorsWithin(budget time.Duration) {
	g.mu.Lock()
	set := g.sensors
	g.sensors = nil
	g.mu.Unlock()
	if set == nil {
		return
	}
	set.cancel()
	if budget == 0 {
		set.wg.Wait()
		return
	}
	done := make(chan struct{})
	go func() { // ends when the last supervisor does
		set.wg.Wait()
		close(done)
	}()
	if !waitDone(done, budget) {
		g.log.Error("shutdown: sensors did not stop in time; going on without them", "sensors", set.stillRunning(), "budget", budget)
	}
}

// setRunning records whether a sensor's supervisor runs.
func (s *sensorSet) setRunning(name string, running bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running[name] = running
}

// stillRunning returns the names of the sensors whose supervisor runs, sorted.
func (s *sensorSet) stillRunning() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n, r := range s.running {
		if r {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// superviseSensor opens spec's device, retrying with backoff while that
// fails (a missing bus, an unplugged adapter: logged once per state change,
// reported on <topic>/status), then runs its poller until ctx is done.
func (g *gateway) superviseSensor(ctx context.Context, set *sensorSet, spec sensors.Spec) {
	log := g.log.With("sensor", spec.Name)
	backoff := sensors.Backoff{Min: spec.Interval, Max: 5 * time.Minute}
	var pub sensors.Publisher = sensorPublisher{g}
	if ha := g.config().HomeAssistant; ha.Discovery {
		gw := hass.Gateway{ID: g.config().Gateway.ID, Version: version}
		ann := hass.NewAnnouncer(pub, ha.Prefix, gw, spec)
		pub = ann
		// Announced at start, device present or not: Home Assistant shows
		// the entity (unavailable until <topic>/status says ok).
		if qs, ok := g.reg.Quantities(spec); ok {
			if err := ann.AnnounceQuantities(ctx, qs); err != nil && ctx.Err() == nil {
				log.Warn("home assistant discovery", "err", err)
			}
		}
	}
	for {
		dev, err := g.reg.Open(spec, g.hw)
		if err == nil {
			if set.setFailing(spec.Name, false) {
				log.Info("sensor device opened")
			} else {
				log.Info(sensors.MsgAvailable)
			}
			// The poller adds the "sensor" attribute itself.
			p := sensors.NewPoller(spec, dev, pub, sensors.PollerOptions{Logger: g.log, Subscriber: sensorSubscriber{g}})
			set.mu.Lock()
			set.pollers[spec.Name] = p
			set.mu.Unlock()
			if err := p.Run(ctx); err != nil {
				log.Error("sensor poller stopped", "err", err)
			}
			return
		}
		set.setOpenErr(spec.Name, err)
		if !set.setFailing(spec.Name, true) {
			log.Warn(sensors.MsgUnavailable, "err", err)
			g.publishSensorStatus(ctx, spec, err)
		}
		if !sensors.Sleep(ctx, backoff.Next()) {
			return
		}
	}
}

// setFailing records an open failure or success and reports whether the
// state was already so.
func (s *sensorSet) setFailing(name string, failing bool) (was bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	was = s.failing[name]
	s.failing[name] = failing
	return was == failing
}

// setOpenErr records why a sensor's device could not be opened.
func (s *sensorSet) setOpenErr(name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.openErr[name] = err
}

// sensor returns a sensor's poller (nil until its device opened), whether
// opening it fails, and the last open error.
func (s *sensorSet) sensor(name string) (p *sensors.Poller, failing bool, openErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pollers[name], s.failing[name], s.openErr[name]
}

// stats sums the pollers' counters, and counts sensors that cannot be opened.
func (s *sensorSet) stats() (sum sensors.Stats, unavailable int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pollers {
		st := p.Stats()
		sum.Reads += st.Reads
		sum.Errors += st.Errors
		sum.Published += st.Published
		sum.PublishErrors += st.PublishErrors
		sum.Commands += st.Commands
		sum.CommandErrors += st.CommandErrors
	}
	for _, f := range s.failing {
		if f {
			unavailable++
		}
	}
	return sum, unavailable
}

// publishSensorStatus reports a sensor whose device cannot be opened, in the
// poller's <topic>/status format.
func (g *gateway) publishSensorStatus(ctx context.Context, spec sensors.Spec, cause error) {
	payload := sensors.MarshalStatus(cause, time.Now())
	err := g.broker.Publish(ctx, sensorOrigin, &packet.Publish{Topic: spec.Topic + "/status", Payload: payload, QoS: 1, Retain: true})
	if err != nil && ctx.Err() == nil {
		g.log.Warn("publish sensor status", "sensor", spec.Name, "err", err)
	}
}

// sensorsOfflineBudget bounds the offline statuses published at shutdown.
const sensorsOfflineBudget = 2 * time.Second

// publishSensorsOffline sets every configured sensor's <topic>/status to
// {"state":"offline"} (retained, at the sensor's QoS, so a bridge rule sends
// it upstream too), after the sensors stopped and before the bridge does.
// With the uplink up it waits, within sensorsOfflineBudget, until the
// upstream acknowledged as many messages (otherwise they stay queued and go
// up at the next start).
func (g *gateway) publishSensorsOffline() {
	ctx, cancel := context.WithTimeout(context.Background(), sensorsOfflineBudget)
	defer cancel()
	cfg := g.config()
	var forwarded uint64
	if g.bridge != nil {
		forwarded = g.bridge.Stats().Forwarded
	}
	payload := sensors.MarshalOffline(time.Now())
	upstream := uint64(0) // statuses a bridge rule sends upstream
	for i := range cfg.Sensors {
		spec := sensorSpec(cfg, i)
		p := &packet.Publish{Topic: spec.TopicOrDefault() + "/status", Payload: payload, QoS: spec.QoS, Retain: true}
		if g.bridge != nil && g.bridge.Forwards(p.Topic) {
			upstream++
		}
		if err := g.broker.Publish(ctx, sensorOrigin, p); err != nil {
			g.log.Warn("publish offline status", "sensor", spec.Name, "err", err)
		}
	}
	if upstream == 0 {
		return
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for g.bridge.Stats().Connected && g.bridge.Stats().Forwarded-forwarded < upstream {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sensorPublisher publishes readings through the broker's inline client: no
// TCP, and at QoS ≥ 1 the call returns once a bridge rule made it durable.
type sensorPublisher struct{ g *gateway }

func (p sensorPublisher) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	return p.g.broker.Publish(ctx, sensorOrigin, &packet.Publish{Topic: topic, Payload: payload, QoS: qos, Retain: retain})
}

// sensorSubscriber delivers actuator commands (<topic>/set) from the broker.
type sensorSubscriber struct{ g *gateway }

func (s sensorSubscriber) Subscribe(filter string, fn func(topic string, payload []byte)) (func(), error) {
	return s.g.broker.Subscribe(sensorOrigin, filter, 1, func(p *packet.Publish) { fn(p.Topic, p.Payload) })
}
