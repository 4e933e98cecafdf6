package gpio

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/edgegw/edgegw/sensors"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The Watch tests run in a synctest bubble: time is fake and only moves when
// every goroutine is blocked, so "the level held 20 ms" is exact and the
// times of reported readings can be asserted to the nanosecond. EdgesChan is
// unbuffered, so each send returns once Watch has taken the edge.

// newPin returns a gpiotest pin whose edges the test sends; call it inside
// the bubble.
func newPin() *gpiotest.Pin {
	return &gpiotest.Pin{N: "GPIO17", Num: 17, EdgesChan: make(chan gpio.Level)}
}

// watcher runs Watch in the background and collects what it reports.
type watcher struct {
	mu    sync.Mutex
	got   []sensors.Reading
	done  chan error
	close context.CancelFunc
}

func startWatch(t *testing.T, in *In) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{done: make(chan error, 1), close: cancel}
	go func() {
		w.done <- in.Watch(ctx, func(rs []sensors.Reading) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.got = append(w.got, rs...)
		})
	}()
	return w
}

// stop cancels Watch and checks it returns nil.
func (w *watcher) stop(t *testing.T) []sensors.Reading {
	t.Helper()
	w.close()
	if err := <-w.done; err != nil {
		t.Fatalf("Watch returned %v after cancellation, want nil", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got
}

func stateAt(v float64, at time.Time) sensors.Reading {
	return sensors.Reading{Quantity: "state", Value: v, Time: at}
}

func assertReadings(t *testing.T, got, want []sensors.Reading) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d readings %v, want %v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("reading %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestIn_Watch_debounce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pin := newPin()
		in, err := NewIn(pin, InConfig{Pull: gpio.Float, Debounce: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		w := startWatch(t, in)
		start := time.Now()

		// A press that bounces: high, low 5 ms later, high again 5 ms later.
		// The level holds from +10 ms, so it counts at +30 ms, once.
		pin.EdgesChan <- gpio.High
		time.Sleep(5 * time.Millisecond)
		pin.EdgesChan <- gpio.Low
		time.Sleep(5 * time.Millisecond)
		pin.EdgesChan <- gpio.High
		time.Sleep(200 * time.Millisecond)

		// A 10 ms dip to low: shorter than the debounce, so nothing.
		dip := time.Now()
		pin.EdgesChan <- gpio.Low
		time.Sleep(10 * time.Millisecond)
		pin.EdgesChan <- gpio.High
		time.Sleep(200 * time.Millisecond)

		// A clean release.
		release := time.Now()
		pin.EdgesChan <- gpio.Low
		time.Sleep(200 * time.Millisecond)

		assertReadings(t, w.stop(t), []sensors.Reading{
			stateAt(1, start.Add(30*time.Millisecond)),
			stateAt(0, release.Add(20*time.Millisecond)),
		})
		if dip.Sub(start) != 210*time.Millisecond { // the bubble's clock is exact
			t.Fatalf("dip at %v", dip.Sub(start))
		}
	})
}

func TestIn_Watch_noDebounce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pin := newPin()
		in, err := NewIn(pin, InConfig{})
		if err != nil {
			t.Fatal(err)
		}
		w := startWatch(t, in)
		start := time.Now()
		pin.EdgesChan <- gpio.High
		time.Sleep(time.Millisecond)
		pin.EdgesChan <- gpio.Low
		synctest.Wait()
		assertReadings(t, w.stop(t), []sensors.Reading{
			stateAt(1, start),
			stateAt(0, start.Add(time.Millisecond)),
		})
	})
}

func TestIn_Watch_edgeFilter(t *testing.T) {
	tests := []struct {
		edge gpio.Edge
		want []float64 // states reported for press, release, press, release
	}{
		{gpio.RisingEdge, []float64{1, 1}},
		{gpio.FallingEdge, []float64{0, 0}},
		{gpio.BothEdges, []float64{1, 0, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.edge.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pin := newPin()
				in, err := NewIn(pin, InConfig{Edge: tt.edge, Debounce: 20 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				w := startWatch(t, in)
				for _, l := range []gpio.Level{gpio.High, gpio.Low, gpio.High, gpio.Low} {
					pin.EdgesChan <- l
					time.Sleep(50 * time.Millisecond)
				}
				got := w.stop(t)
				if len(got) != len(tt.want) {
					t.Fatalf("got %v, want states %v", got, tt.want)
				}
				for i, v := range tt.want {
					if got[i].Value != v {
						t.Fatalf("got %v, want states %v", got, tt.want)
					}
				}
			})
		})
	}
}

func TestIn_Sense_counter(t *testing.T) {
	tests := []struct {
		edge gpio.Edge
		want float64 // changes counted for 5 pulses
	}{
		{gpio.FallingEdge, 5},
		{gpio.RisingEdge, 5},
		{gpio.BothEdges, 10},
	}
	for _, tt := range tests {
		t.Run(tt.edge.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pin := newPin()
				pin.L = gpio.High // a pulled-up meter output idles high
				in, err := NewIn(pin, InConfig{Edge: tt.edge, Debounce: 20 * time.Millisecond, Mode: Counter})
				if err != nil {
					t.Fatal(err)
				}
				assertReadings(t, sense(t, in), counterReadings(0, 0))
				w := startWatch(t, in)
				for i := 0; i < 5; i++ { // 5 pulses of 50 ms low, bouncing on the way down, in 500 ms
					pin.EdgesChan <- gpio.Low
					pin.EdgesChan <- gpio.High
					pin.EdgesChan <- gpio.Low
					time.Sleep(50 * time.Millisecond)
					pin.EdgesChan <- gpio.High
					time.Sleep(50 * time.Millisecond)
				}
				time.Sleep(500 * time.Millisecond)
				assertReadings(t, sense(t, in), counterReadings(tt.want, tt.want)) // per second, over exactly 1 s
				time.Sleep(2 * time.Second)
				assertReadings(t, sense(t, in), counterReadings(tt.want, 0)) // nothing new in 2 s
				if got := w.stop(t); len(got) != 0 {
					t.Fatalf("counter mode reported %v; it should only count", got)
				}
			})
		})
	}
}

func counterReadings(count, rate float64) []sensors.Reading {
	return []sensors.Reading{
		{Quantity: "count", Value: count},
		{Quantity: "rate", Value: rate, Unit: "/s"},
	}
}

func sense(t *testing.T, s sensors.Sensor) []sensors.Reading {
	t.Helper()
	got, err := s.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestIn_Sense_state(t *testing.T) {
	pin := newPin()
	in, err := NewIn(pin, InConfig{Pull: gpio.PullUp})
	if err != nil {
		t.Fatal(err)
	}
	if pin.P != gpio.PullUp {
		t.Fatalf("pull = %v, want PullUp", pin.P)
	}
	assertReadings(t, sense(t, in), []sensors.Reading{{Quantity: "state", Value: 1}}) // pulled up
	pin.Out(gpio.Low)                                                                 // pressed
	assertReadings(t, sense(t, in), []sensors.Reading{{Quantity: "state", Value: 0}})
}

// Cancellation ends a Watch blocked in WaitForEdge within one wait slice.
func TestIn_Watch_cancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in, err := NewIn(newPin(), InConfig{Debounce: DefaultDebounce})
		if err != nil {
			t.Fatal(err)
		}
		w := startWatch(t, in)
		time.Sleep(time.Second + waitSlice/2) // mid-wait, several slices in
		cancelled := time.Now()
		if got := w.stop(t); len(got) != 0 {
			t.Fatalf("reported %v without edges", got)
		}
		if took := time.Since(cancelled); took > waitSlice {
			t.Fatalf("Watch returned %v after cancellation, want at most %v", took, waitSlice)
		}
	})
}

// The same on the real clock, with the pin's own timer, after an edge.
func TestIn_Watch_cancelRealClock(t *testing.T) {
	pin := newPin()
	in, err := NewIn(pin, InConfig{Debounce: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := startWatch(t, in)
	pin.EdgesChan <- gpio.High // returns once Watch has taken it
	waitFor(t, func() bool { w.mu.Lock(); defer w.mu.Unlock(); return len(w.got) == 1 })
	if got := w.stop(t); got[0].Value != 1 {
		t.Fatalf("reported %v, want state 1", got)
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
	}
}

func TestIn_Watch_twice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in, err := NewIn(newPin(), InConfig{})
		if err != nil {
			t.Fatal(err)
		}
		w := startWatch(t, in)
		synctest.Wait() // the first Watch is waiting for an edge
		if err := in.Watch(context.Background(), func([]sensors.Reading) {}); !errors.Is(err, ErrWatching) {
			t.Fatalf("second Watch = %v, want ErrWatching", err)
		}
		w.stop(t)
	})
}

func TestIn_Halt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in, err := NewIn(newPin(), InConfig{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := in.Halt(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := in.Sense(context.Background()); !errors.Is(err, ErrHalted) {
			t.Fatalf("Sense after Halt = %v, want ErrHalted", err)
		}
		if err := in.Watch(context.Background(), func([]sensors.Reading) {}); !errors.Is(err, ErrHalted) {
			t.Fatalf("Watch after Halt = %v, want ErrHalted", err)
		}
	})
}

func TestNewIn_errors(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO4"} // no EdgesChan: gpiotest refuses edge detection
	if in, err := NewIn(pin, InConfig{}); in != nil || err == nil {
		t.Fatalf("NewIn = %v, %v; want the pin's error", in, err)
	}
	if in, err := NewIn(newPin(), InConfig{Debounce: -time.Second}); in != nil || err == nil {
		t.Fatalf("NewIn with negative debounce = %v, %v; want an error", in, err)
	}
}

func TestIn_Sense_canceled(t *testing.T) {
	in, err := NewIn(newPin(), InConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := in.Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sense = %v, want context.Canceled", err)
	}
}
