package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgegw/edgegw/internal/statuspage"
	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// TestSensorSet_stats_commandErrors: a failed "<topic>/set" command is
// counted in the sums behind the metrics topic and in the status page's
// sensor entry (and so in /metrics).
func TestSensorSet_stats_commandErrors(t *testing.T) {
	sub := &sensorstest.Subscriber{}
	s := sensorstest.NewActuatorSensor(func([]byte) ([]sensors.Reading, error) { return nil, errors.New("relay stuck") })
	spec := sensors.Spec{Name: "relay", Driver: "gpio_out", Interval: time.Hour}
	p := sensors.NewPoller(spec, s, &sensorstest.Publisher{}, sensors.PollerOptions{Subscriber: sub})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	sensorstest.WaitFor(t, 10*time.Second, "the set subscription", func() bool { return len(sub.Filters()) == 1 })
	sub.Deliver("sensors/relay/set", []byte("ON"))
	sensorstest.WaitFor(t, 10*time.Second, "the failed command", func() bool { return p.Stats().CommandErrors == 1 })

	set := &sensorSet{pollers: map[string]*sensors.Poller{"relay": p}}
	sum, _ := set.stats()
	if sum.Commands != 1 || sum.CommandErrors != 1 {
		t.Errorf("stats = %+v, want 1 command, 1 command error", sum)
	}
	entry := statuspage.Sensor{Name: "relay"}
	describeSensor(&entry, set)
	if entry.Commands != 1 || entry.CommandErrors != 1 {
		t.Errorf("status page entry = %+v, want 1 command, 1 command error", entry)
	}
}
