package serial_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bugst "go.bug.st/serial"
	"go.uber.org/goleak"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
	"github.com/edgegw/edgegw/sensors/serial"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait is generous: the suite also runs under qemu-arm.
const wait = 20 * time.Second

// usb is a USB serial adapter simulated by a pseudo-terminal: the port the
// driver opens is a symlink (like /dev/serial/by-id/…) to the PTY's
// secondary side. Unplugging closes the master and removes the link.
type usb struct {
	t    *testing.T
	link string
	mu   sync.Mutex
	pty  *sensorstest.PTY
}

func newUSB(t *testing.T) *usb {
	u := &usb{t: t, link: filepath.Join(t.TempDir(), "ttyUSB0")}
	u.plug()
	t.Cleanup(u.unplug)
	return u
}

func (u *usb) plug() {
	u.t.Helper()
	pty, err := sensorstest.OpenPTY()
	if err != nil {
		u.t.Fatal(err)
	}
	if err := os.Symlink(pty.Path, u.link); err != nil {
		u.t.Fatal(err)
	}
	u.mu.Lock()
	u.pty = pty
	u.mu.Unlock()
}

func (u *usb) unplug() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.pty != nil {
		os.Remove(u.link)
		u.pty.Close()
		u.pty = nil
	}
}

func (u *usb) write(lines ...string) {
	u.t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, l := range lines {
		if _, err := u.pty.Master.Write([]byte(l + "\r\n")); err != nil {
			u.t.Fatal(err)
		}
	}
}

// emits records what Watch reports.
type emits struct {
	mu sync.Mutex
	rs []sensors.Reading
}

func (e *emits) add(rs []sensors.Reading) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rs = append(e.rs, rs...)
}

func (e *emits) values(q string) []float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []float64
	for _, r := range e.rs {
		if r.Quantity == q {
			out = append(out, r.Value)
		}
	}
	return out
}

// watch runs d.Watch until the test ends, checking that it returns nil.
func watch(t *testing.T, d *serial.Dev) *emits {
	t.Helper()
	e := &emits{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Watch(ctx, e.add) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch = %v, want nil", err)
		}
	})
	return e
}

func newDev(t *testing.T, u *usb, o serial.Opts) *serial.Dev {
	t.Helper()
	hw := &sensorstest.Hardware{} // opens the path with go.bug.st/serial
	mode := &bugst.Mode{BaudRate: 9600, DataBits: 8}
	o.Port = u.link
	o.Reopen = sensors.Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	d, err := serial.New(func() (sensors.SerialPort, error) { return hw.Serial(u.link, mode) }, &o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func opened(t *testing.T, d *serial.Dev, n uint64) {
	t.Helper()
	sensorstest.WaitFor(t, wait, fmt.Sprintf("open #%d", n), func() bool { return d.Stats().Opens >= n })
}

func TestDev_Watch_json(t *testing.T) {
	u := newUSB(t)
	d := newDev(t, u, serial.Opts{Format: "json"})
	e := watch(t, d)
	opened(t, d, 1)
	u.write(`{"temperature": 21.5, "env": {"humidity": 40}}`, `not json`, `{"temperature": 21.75}`)
	sensorstest.WaitFor(t, wait, "two temperatures", func() bool { return len(e.values("temperature")) == 2 })
	if got := e.values("temperature"); got[0] != 21.5 || got[1] != 21.75 {
		t.Errorf("temperature = %v", got)
	}
	if got := e.values("env_humidity"); len(got) != 1 || got[0] != 40 {
		t.Errorf("env_humidity = %v", got)
	}
	st := d.Stats()
	if st.Lines != 3 || st.Parsed != 2 || st.Garbage != 1 {
		t.Errorf("Stats = %+v, want 3 lines, 2 parsed, 1 garbage", st)
	}
	rs, err := d.Sense(t.Context())
	if err != nil || len(rs) != 2 || rs[0].Quantity != "env_humidity" || rs[1].Value != 21.75 {
		t.Errorf("Sense = %+v, %v; want the latest of each quantity", rs, err)
	}
}

func TestDev_Watch_regex(t *testing.T) {
	u := newUSB(t)
	d := newDev(t, u, serial.Opts{Format: "regex", Pattern: `T=(?P<temperature>-?[0-9.]+) P=(?P<pressure>[0-9.]+)`})
	e := watch(t, d)
	opened(t, d, 1)
	u.write("boot v1.2", "T=-4.5 P=1013.25", "T=x P=1")
	sensorstest.WaitFor(t, wait, "garbage counted", func() bool { return d.Stats().Garbage == 2 })
	if got := e.values("temperature"); len(got) != 1 || got[0] != -4.5 {
		t.Errorf("temperature = %v", got)
	}
	if got := e.values("pressure"); len(got) != 1 || got[0] != 1013.25 {
		t.Errorf("pressure = %v", got)
	}
}

func TestDev_Watch_nmeaBadChecksum(t *testing.T) {
	u := newUSB(t)
	d := newDev(t, u, serial.Opts{Format: "nmea"})
	e := watch(t, d)
	opened(t, d, 1)
	u.write(
		"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48", // checksum off by one: skipped
		"$GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1*39",                   // ignored
		"$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
	)
	sensorstest.WaitFor(t, wait, "the RMC fix", func() bool { return len(e.values("speed")) == 1 })
	st := d.Stats()
	if st.BadChecksum != 1 || st.Ignored != 1 || st.Parsed != 1 || st.Garbage != 0 {
		t.Errorf("Stats = %+v, want 1 bad checksum, 1 ignored, 1 parsed", st)
	}
	if got := e.values("altitude"); len(got) != 0 {
		t.Errorf("altitude from the bad sentence was emitted: %v", got)
	}
	if got := e.values("latitude"); len(got) != 1 || got[0] != 48.1173 {
		t.Errorf("latitude = %v", got)
	}
}

// TestDev_Watch_unplugReplug: the PTY is closed and removed (USB adapter
// unplugged), Sense reports the port down, and once a new PTY appears at the
// same path the driver reopens it and reads again.
func TestDev_Watch_unplugReplug(t *testing.T) {
	u := newUSB(t)
	d := newDev(t, u, serial.Opts{Format: "json"})
	e := watch(t, d)
	opened(t, d, 1)
	u.write(`{"v": 1}`)
	sensorstest.WaitFor(t, wait, "first value", func() bool { return len(e.values("v")) == 1 })

	u.unplug()
	var downErr error
	sensorstest.WaitFor(t, wait, "Sense to report the port down", func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, downErr = d.Sense(ctx)
		return downErr != nil && !errors.Is(downErr, serial.ErrNoData)
	})
	if !strings.Contains(downErr.Error(), u.link) {
		t.Errorf("port-down error %q does not name the port", downErr)
	}
	sensorstest.WaitFor(t, wait, "failed reopen attempts", func() bool { return d.Stats().PortErrors >= 3 })

	u.plug()
	opened(t, d, 2)
	u.write(`{"v": 2}`)
	sensorstest.WaitFor(t, wait, "value after replug", func() bool { return len(e.values("v")) == 2 })
	rs, err := d.Sense(t.Context())
	if err != nil || len(rs) != 1 || rs[0].Value != 2 {
		t.Errorf("Sense after replug = %+v, %v", rs, err)
	}
}

func TestDev_Sense_waitsAndAges(t *testing.T) {
	u := newUSB(t)
	var mu sync.Mutex
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	d := newDev(t, u, serial.Opts{Format: "json", MaxAge: 30 * time.Second, Now: clock})

	// Nothing yet, Watch not even running: ErrNoData when ctx ends.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	_, err := d.Sense(ctx)
	cancel()
	if !errors.Is(err, serial.ErrNoData) || !strings.Contains(err.Error(), "yet") {
		t.Fatalf("Sense before any line = %v, want ErrNoData … yet", err)
	}

	watch(t, d)
	opened(t, d, 1)
	// A Sense waiting for the first line returns as soon as it arrives.
	got := make(chan []sensors.Reading, 1)
	go func() {
		rs, _ := d.Sense(t.Context())
		got <- rs
	}()
	u.write(`{"v": 7}`)
	if rs := <-got; len(rs) != 1 || rs[0].Value != 7 || !rs[0].Time.Equal(now) {
		t.Fatalf("waiting Sense = %+v, want v=7 stamped at the line's arrival", rs)
	}

	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	ctx, cancel = context.WithTimeout(t.Context(), 20*time.Millisecond)
	_, err = d.Sense(ctx)
	cancel()
	if !errors.Is(err, serial.ErrNoData) || !strings.Contains(err.Error(), "for 31s") {
		t.Errorf("stale Sense = %v, want ErrNoData … for 31s", err)
	}
}

func TestDev_Watch_onlyOne(t *testing.T) {
	u := newUSB(t)
	d := newDev(t, u, serial.Opts{})
	watch(t, d)
	opened(t, d, 1)
	if err := d.Watch(t.Context(), func([]sensors.Reading) {}); !errors.Is(err, serial.ErrWatching) {
		t.Errorf("second Watch = %v, want ErrWatching", err)
	}
}

// TestDriver_Open_poller runs the driver from a Spec through the registry
// and the real poller, with the Hardware opening the port path.
func TestDriver_Open_poller(t *testing.T) {
	u := newUSB(t)
	reg := sensors.NewRegistry()
	reg.Register("serial", serial.Driver())
	spec := sensors.Spec{Name: "gps", Driver: "serial", Interval: 50 * time.Millisecond, Topic: "sensors/gps", QoS: 1,
		Options: sensors.Options{Values: map[string]sensors.Option{
			"port": {Value: u.link}, "baud": {Value: 4800}, "format": {Value: "nmea"}, "stop_bits": {Value: 2},
		}}}
	s, err := reg.Open(spec, &sensorstest.Hardware{})
	if err != nil {
		t.Fatal(err)
	}
	pub := &sensorstest.Publisher{}
	p := sensors.NewPoller(spec, s, pub, sensors.PollerOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	sensorstest.WaitFor(t, wait, "port open", func() bool { return s.(*serial.Dev).Stats().Opens == 1 })
	u.write("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47")
	sensorstest.WaitFor(t, wait, "altitude published", func() bool { return len(pub.Topic("sensors/gps/altitude")) > 0 })
	reads := p.Stats().Reads
	sensorstest.WaitFor(t, wait, "three more polls", func() bool { return p.Stats().Reads >= reads+3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Suppressed == 0 {
		t.Errorf("Stats = %+v: no poll returned the line's values again", st)
	}
	if n := len(pub.Topic("sensors/gps/altitude")); n != 1 {
		t.Errorf("one GGA line published %d altitudes, want 1 (polls must not repeat it)", n)
	}
	var alt sensors.Payload
	m, _ := pub.Last("sensors/gps/altitude")
	if err := m.Decode(&alt); err != nil || alt.Value != 545.4 || alt.Unit != "m" {
		t.Errorf("altitude payload %s", m.Payload)
	}
}

func TestDriver_Open_mode(t *testing.T) {
	var got *bugst.Mode
	var mu sync.Mutex
	hw := &sensorstest.Hardware{OpenSerial: func(port string, mode *bugst.Mode) (sensors.SerialPort, error) {
		mu.Lock()
		defer mu.Unlock()
		got = mode
		return nil, errors.New("fake: no such port " + port)
	}}
	spec := sensors.Spec{Name: "m", Driver: "serial", Interval: time.Second,
		Options: sensors.Options{Values: map[string]sensors.Option{
			"port": {Value: "/dev/ttyAMA0"}, "baud": {Value: 115200}, "data_bits": {Value: 7},
			"parity": {Value: "even"}, "stop_bits": {Value: 2},
		}}}
	s, err := serial.Driver().Open(spec, hw)
	if err != nil {
		t.Fatal(err)
	}
	d := s.(*serial.Dev)
	watch(t, d)
	sensorstest.WaitFor(t, wait, "an open attempt", func() bool { return d.Stats().PortErrors > 0 })
	_, err = d.Sense(t.Context())
	if err == nil || !strings.Contains(err.Error(), "serial: open /dev/ttyAMA0: fake: no such port /dev/ttyAMA0") {
		t.Errorf("Sense = %v, want the open error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := bugst.Mode{BaudRate: 115200, DataBits: 7, Parity: bugst.EvenParity, StopBits: bugst.TwoStopBits}
	if got == nil || *got != want {
		t.Errorf("mode = %+v, want %+v", got, want)
	}
}

func TestDriver_Check(t *testing.T) {
	spec := func(opts map[string]any) sensors.Spec {
		vals := map[string]sensors.Option{}
		line := 31
		for k, v := range opts {
			vals[k] = sensors.Option{Value: v, Line: line}
			line++
		}
		return sensors.Spec{Name: "s", Driver: "serial", Interval: time.Second, File: "g.yaml", Line: 30,
			Options: sensors.Options{File: "g.yaml", Values: vals}}
	}
	valid := []map[string]any{
		{"port": "/dev/ttyUSB0"},
		{"port": "/dev/ttyUSB0", "format": "nmea", "baud": 4800, "parity": "none", "stop_bits": 2, "max_age": "1m"},
		{"port": "/dev/ttyS0", "format": "regex", "pattern": `(?P<t>[0-9.]+)`, "data_bits": 7, "parity": "mark"},
	}
	for _, o := range valid {
		if err := serial.Driver().Check(spec(o)); err != nil {
			t.Errorf("Check(%v) = %v", o, err)
		}
	}
	invalid := []struct {
		opts map[string]any
		want string
	}{
		{map[string]any{}, "g.yaml:30: port: missing required option"},
		{map[string]any{"port": "p", "baud": 0}, "baud: must be positive"},
		{map[string]any{"port": "p", "data_bits": 9}, "data_bits: must be 5 to 8"},
		{map[string]any{"port": "p", "parity": "sometimes"}, `parity: "sometimes" is not one of`},
		{map[string]any{"port": "p", "stop_bits": 3}, `stop_bits: "3" is not one of`},
		{map[string]any{"port": "p", "stop_bits": 1.5}, "stop_bits: 1.5 is not supported on Linux"},
		{map[string]any{"port": "p", "format": "csv"}, `format: "csv" is not one of`},
		{map[string]any{"port": "p", "format": "regex"}, "g.yaml:30: pattern: missing required option"},
		{map[string]any{"port": "p", "format": "regex", "pattern": "(["}, "pattern: pattern: error parsing regexp"},
		{map[string]any{"port": "p", "format": "regex", "pattern": "[0-9]+"}, "pattern: pattern has no named group"},
		{map[string]any{"port": "p", "format": "json", "pattern": "(?P<a>1)"}, "pattern: pattern is only used with format regex"},
		{map[string]any{"port": "p", "bauds": 9600}, "bauds: unknown option"},
	}
	for _, tt := range invalid {
		err := serial.Driver().Check(spec(tt.opts))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Check(%v) = %v, want %q", tt.opts, err, tt.want)
		}
		if _, err := serial.Driver().Open(spec(tt.opts), &sensorstest.Hardware{}); err == nil {
			t.Errorf("Open(%v) accepted what Check rejected", tt.opts)
		}
	}
}

func TestNew_errors(t *testing.T) {
	open := func() (sensors.SerialPort, error) { return nil, errors.New("unused") }
	if _, err := serial.New(nil, &serial.Opts{}); err == nil {
		t.Error("nil open accepted")
	}
	if _, err := serial.New(open, &serial.Opts{Format: "xml"}); err == nil {
		t.Error("format xml accepted")
	}
	if _, err := serial.New(open, &serial.Opts{Format: "regex"}); err == nil {
		t.Error("regex without pattern accepted")
	}
}
