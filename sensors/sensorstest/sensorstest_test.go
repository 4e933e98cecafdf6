package sensorstest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.bug.st/serial"
	"go.uber.org/goleak"

	"github.com/edgegw/edgegw/sensors"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSensor_Sense_script(t *testing.T) {
	boom := errors.New("boom")
	r := sensors.Reading{Quantity: "t", Value: 1}
	s := NewSensor(Step{Readings: []sensors.Reading{r}}, Step{Err: boom})
	ctx := t.Context()
	if rs, err := s.Sense(ctx); err != nil || len(rs) != 1 || rs[0] != r {
		t.Fatalf("step 1 = %v, %v", rs, err)
	}
	for i := 0; i < 2; i++ { // the last step repeats
		if _, err := s.Sense(ctx); !errors.Is(err, boom) {
			t.Fatalf("step %d err = %v, want boom", i+2, err)
		}
	}
	if s.Senses() != 3 {
		t.Errorf("Senses = %d, want 3", s.Senses())
	}
	s.HaltErr = boom
	if err := s.Halt(); !errors.Is(err, boom) || s.Halts() != 1 {
		t.Errorf("Halt = %v, Halts = %d", err, s.Halts())
	}
}

func TestSensor_Sense_blockHonoursCtx(t *testing.T) {
	s := NewSensor(Step{Block: make(chan struct{})})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestSensor_Overlaps(t *testing.T) {
	release := make(chan struct{})
	s := NewSensor(Step{Block: release, IgnoreCtx: true})
	var wg sync.WaitGroup
	wg.Go(func() { s.Sense(t.Context()) })
	WaitFor(t, 5*time.Second, "Sense to start", func() bool { return s.Senses() == 1 })
	s.Halt() // while Sense runs
	close(release)
	wg.Wait()
	if s.Overlaps() != 1 {
		t.Errorf("Overlaps = %d, want 1", s.Overlaps())
	}
}

func TestWatchSensor_Watch(t *testing.T) {
	w := NewWatchSensor()
	ctx := t.Context()
	got := make(chan []sensors.Reading, 1)
	errc := make(chan error, 1)
	go func() { errc <- w.Watch(ctx, func(rs []sensors.Reading) { got <- rs }) }()
	if !w.Emit(ctx, sensors.Reading{Quantity: "q", Value: 2}) {
		t.Fatal("Emit not taken")
	}
	if rs := <-got; len(rs) != 1 || rs[0].Value != 2 {
		t.Fatalf("emitted %v", rs)
	}
	boom := errors.New("boom")
	w.Fail(ctx, boom)
	if err := <-errc; !errors.Is(err, boom) {
		t.Fatalf("Watch = %v, want boom", err)
	}
	if w.Watches() != 1 {
		t.Errorf("Watches = %d", w.Watches())
	}
}

func TestPublisher(t *testing.T) {
	var p Publisher
	payload := []byte(`{"value":1}`)
	p.Publish(t.Context(), "a/b", payload, 1, true)
	payload[0] = 'X' // the recorder copied it
	p.SetErr(errors.New("down"))
	if err := p.Publish(t.Context(), "a/b", nil, 0, false); err == nil {
		t.Fatal("Publish with SetErr: no error")
	}
	m, ok := p.Last("a/b")
	if !ok || string(m.Payload) != `{"value":1}` || m.QoS != 1 || !m.Retain || len(p.Messages()) != 1 {
		t.Fatalf("Last = %+v, %v; all = %v", m, ok, p.Messages())
	}
	var v struct{ Value float64 }
	if err := m.Decode(&v); err != nil || v.Value != 1 {
		t.Errorf("Decode = %v, %v", v, err)
	}
}

func TestPublisher_States(t *testing.T) {
	var p Publisher
	for _, payload := range []string{`{"state":"ok","ts":"x"}`, `{"state":"error","error":"gone","ts":"y"}`, `not json`} {
		p.Publish(t.Context(), "s/status", []byte(payload), 1, true)
	}
	p.Publish(t.Context(), "s/temperature", []byte(`{"value":1}`), 0, false)
	if got, want := strings.Join(p.States("s/status"), "|"), "ok:|error:gone|:"; got != want {
		t.Errorf("States = %q, want %q", got, want)
	}
}

func TestSubscriber_Deliver(t *testing.T) {
	var s Subscriber
	var got []string
	cancel, err := s.Subscribe("sensors/+/set", func(topic string, _ []byte) { got = append(got, topic) })
	if err != nil {
		t.Fatal(err)
	}
	s.Subscribe("sensors/#", func(string, []byte) {})
	if n := s.Deliver("sensors/relay/set", nil); n != 2 {
		t.Errorf("Deliver matched %d, want 2", n)
	}
	if n := s.Deliver("sensors/relay/state", nil); n != 1 {
		t.Errorf("Deliver matched %d, want 1", n)
	}
	cancel()
	cancel() // idempotent
	s.Deliver("sensors/relay/set", nil)
	if len(got) != 1 || got[0] != "sensors/relay/set" {
		t.Errorf("callback saw %v", got)
	}
	if f := s.Filters(); len(f) != 1 || f[0] != "sensors/#" {
		t.Errorf("Filters = %v", f)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		filter, name string
		want         bool
	}{
		{"a/b", "a/b", true},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/#", "a", true},
		{"#", "a/b", true},
		{"a/b/c", "a/b", false},
		{"+/+", "/x", true},
	}
	for _, tt := range tests {
		if got := match(tt.filter, tt.name); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.filter, tt.name, got, tt.want)
		}
	}
}

func TestHardware_missing(t *testing.T) {
	h := &Hardware{}
	if _, err := h.I2C("1"); err == nil || !strings.Contains(err.Error(), `"1"`) {
		t.Errorf("I2C err = %v", err)
	}
	if _, err := h.GPIO("GPIO17"); err == nil {
		t.Error("GPIO: no error")
	}
	if _, err := h.Serial("/nonexistent/tty", &serial.Mode{BaudRate: 9600}); err == nil {
		t.Error("Serial: no error")
	}
}

func TestLogs(t *testing.T) {
	var l Logs
	log := l.Logger().With("sensor", "x").WithGroup("g")
	log.Warn("hello", "err", "bad")
	recs := l.Records()
	if len(recs) != 1 || recs[0].Attrs["sensor"] != "x" || recs[0].Attrs["g.err"] != "bad" {
		t.Fatalf("records = %+v", recs)
	}
	if l.Count(slog.LevelWarn, "hello") != 1 || l.Count(slog.LevelInfo, "hello") != 0 {
		t.Error("Count wrong")
	}
}

// TestOpenPTY checks the pair end to end through go.bug.st/serial, as the
// serial driver's tests use it, and that closing the master hangs it up.
func TestOpenPTY(t *testing.T) {
	pty, err := OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer pty.Close()
	h := &Hardware{}
	port, err := h.Serial(pty.Path, &serial.Mode{BaudRate: 9600, DataBits: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	if err := port.SetReadTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := pty.Master.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	var got []byte
	for !strings.Contains(string(got), "\n") {
		n, err := port.Read(buf)
		if err != nil || n == 0 {
			t.Fatalf("Read = %d, %v after %q", n, err, got)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "hello\n" {
		t.Errorf("read %q, want %q", got, "hello\n")
	}
	pty.Close()
	n, err := port.Read(buf)
	if err == nil && n > 0 {
		t.Fatalf("Read after hang-up = %d, nil", n)
	}
	if err == nil {
		t.Fatal("Read after hang-up: no error")
	}
	t.Logf("read after hang-up: %v", err)
}

// Script answers requests that arrive in pieces, skips bytes that start no
// request, and uses queued replies before the standing one.
func TestScript_Answer(t *testing.T) {
	var s Script
	s.Always([]byte("READ"), []byte("r"))
	s.Queue([]byte("READ"), []byte("q1"), []byte("q2"))
	s.Always([]byte("PING"), []byte("p"))
	steps := []struct{ in, want string }{
		{"RE", ""},         // a piece: nothing yet
		{"AD", "q1"},       // completed
		{"xxREADPI", "q2"}, // garbage skipped; the next request begun
		{"NGREAD", "pr"},   // two completed at once
		{"READ", "r"},
	}
	for _, st := range steps {
		if got := string(s.Answer([]byte(st.in))); got != st.want {
			t.Fatalf("Answer(%q) = %q, want %q", st.in, got, st.want)
		}
	}
}
