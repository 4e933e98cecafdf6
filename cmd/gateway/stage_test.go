package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
)

// TestStage_Stop_budget: a stage that ignores its cancellation (a stuck
// upstream write, a sensor in a blocking read) does not hold the shutdown:
// stop returns after its budget and logs which stage did not stop.
func TestStage_Stop_budget(t *testing.T) {
	var logs mqtttest.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	release := make(chan struct{})
	fail := make(chan error, 1)
	s := startStage(fail, "stuck", func(context.Context) error {
		<-release // ignores ctx
		return nil
	})
	start := time.Now()
	s.stop(log, 100*time.Millisecond)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %v with a 100ms budget", d)
	}
	if !strings.Contains(logs.String(), "stage did not stop in time") || !strings.Contains(logs.String(), "stage=stuck") {
		t.Errorf("log = %q, want the stuck stage named", logs.String())
	}
	close(release)
	<-s.done

	// A stage that stops in time logs nothing.
	logs = mqtttest.SyncBuffer{}
	ok := startStage(fail, "quick", func(ctx context.Context) error { <-ctx.Done(); return nil })
	ok.stop(log, 5*time.Second)
	if logs.String() != "" {
		t.Errorf("log = %q for a stage that stopped", logs.String())
	}
}

// TestGateway_StopSensorsWithin_budget: sensors whose supervisors do not
// return are named in the log once the budget is spent.
func TestGateway_StopSensorsWithin_budget(t *testing.T) {
	var logs mqtttest.SyncBuffer
	g := &gateway{log: slog.New(slog.NewTextHandler(&logs, nil))}
	release := make(chan struct{})
	set := &sensorSet{cancel: func() {}, running: map[string]bool{"fridge": true, "door": false}}
	set.wg.Add(1)
	go func() {
		defer set.wg.Done()
		<-release
	}()
	g.sensors = set
	g.stopSensorsWithin(100 * time.Millisecond)
	if !strings.Contains(logs.String(), "sensors did not stop in time") || !strings.Contains(logs.String(), "sensors=[fridge]") {
		t.Errorf("log = %q, want fridge named", logs.String())
	}
	close(release)
	set.wg.Wait()
}
