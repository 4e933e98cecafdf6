package pms5003

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/frame"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// dataFrame builds a data frame as the manual's appendix I lays it out:
// 0x42 0x4D, length 28, words (CF=1 PM1.0, PM2.5, PM10; atmospheric PM1.0,
// PM2.5, PM10; six particle counts; reserved), then the 16-bit sum of every
// byte before it. The checksum is summed here independently of the driver.
func dataFrame(atm1, atm25, atm10 uint16) []byte {
	words := []uint16{atm1 + 1, atm25 + 1, atm10 + 1, atm1, atm25, atm10, 1000, 800, 300, 50, 10, 2, 0x9700}
	b := []byte{0x42, 0x4D, 0x00, 0x1C}
	for _, w := range words {
		b = binary.BigEndian.AppendUint16(b, w)
	}
	var s int
	for _, x := range b {
		s += int(x)
	}
	return binary.BigEndian.AppendUint16(b, uint16(s))
}

// The commands of appendix II, written out byte by byte.
var (
	passiveCmd = []byte{0x42, 0x4D, 0xE1, 0x00, 0x00, 0x01, 0x70}
	activeCmd  = []byte{0x42, 0x4D, 0xE1, 0x00, 0x01, 0x01, 0x71}
	readCmd    = []byte{0x42, 0x4D, 0xE2, 0x00, 0x00, 0x01, 0x71}
	passiveAck = []byte{0x42, 0x4D, 0x00, 0x04, 0xE1, 0x00, 0x01, 0x74}
)

// script answers the passive command with its acknowledgement; tests
// queue the answers to read commands.
func script() *sensorstest.Script {
	sc := &sensorstest.Script{}
	sc.Always(passiveCmd, passiveAck)
	return sc
}

func newDev(t *testing.T, u *sensorstest.UART, mode string) *Dev {
	t.Helper()
	hw := &sensorstest.Hardware{} // opens the path with go.bug.st/serial
	d, err := New(u.Path, func() (sensors.SerialPort, error) { return hw.Serial(u.Path, frame.Mode9600) }, Opts{Mode: mode, NoCounts: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	return d
}

func sense(d *Dev) ([]sensors.Reading, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return d.Sense(ctx)
}

func checkPM(t *testing.T, got []sensors.Reading, want ...float64) {
	t.Helper()
	names := []string{"pm1", "pm25", "pm10"}
	if len(got) != 3 {
		t.Fatalf("Sense = %+v, want pm1, pm25, pm10 = %v", got, want)
	}
	for i, r := range got {
		if r.Quantity != names[i] || r.Value != want[i] || r.Unit != "µg/m³" {
			t.Errorf("reading %d = %+v, want %s = %v µg/m³", i, r, names[i], want[i])
		}
	}
}

// Passive mode: the port is opened at the first Sense and set to passive;
// each Sense asks for a frame. Garbage and a false header before a frame
// are skipped; a frame with a bad checksum is an error and no reading; the
// next Sense reads again.
func TestDev_Sense_passive(t *testing.T) {
	dev := script()
	u := sensorstest.NewUART(t, dev.Answer)
	d := newDev(t, u, "passive")

	dev.Queue(readCmd, dataFrame(12, 20, 25))
	got, err := sense(d)
	if err != nil {
		t.Fatal(err)
	}
	checkPM(t, got, 12, 20, 25)
	if u.Count(passiveCmd) != 1 || u.Count(readCmd) != 1 {
		t.Fatalf("requests % x, want the passive command then one read", u.Requests())
	}

	bad := dataFrame(99, 99, 99)
	bad[len(bad)-1] ^= 0x01
	dev.Queue(readCmd, bad)
	if got, err := sense(d); !errors.Is(err, frame.ErrChecksum) || got != nil {
		t.Fatalf("Sense of a bad frame = %v, %v; want ErrChecksum", got, err)
	}

	garbage := append([]byte{0x00, 0xFF, 0x42, 0x13, 0x42, 0x4D, 0x7F, 0xFF}, dataFrame(1, 2, 3)...) // 0x42 alone; a header with an absurd length
	dev.Queue(readCmd, garbage)
	got, err = sense(d)
	if err != nil {
		t.Fatal(err)
	}
	checkPM(t, got, 1, 2, 3)

	// A false header with a plausible length, whose "frame" swallows the
	// start of the real one: its checksum fails, and the search resumes
	// right after it and finds the real frame.
	falseHeader := append([]byte{0x42, 0x4D, 0x00, 0x1C, 0x00, 0x00}, dataFrame(4, 5, 6)...)
	dev.Queue(readCmd, falseHeader)
	got, err = sense(d)
	if err != nil {
		t.Fatal(err)
	}
	checkPM(t, got, 4, 5, 6)
	st := d.Stats()
	if st.Frames < 3 || st.BadChecksum != 2 || st.Garbage < 6 || st.Opens != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

// The six particle counts of words 7–12 (1000, 800, 300, 50, 10, 2 in
// dataFrame) follow the mass concentrations, per 0.1 L; with counts: false
// only the three concentrations are published.
func TestDev_Sense_counts(t *testing.T) {
	dev := script()
	u := sensorstest.NewUART(t, dev.Answer)
	hw := &sensorstest.Hardware{}
	d, err := New(u.Path, func() (sensors.SerialPort, error) { return hw.Serial(u.Path, frame.Mode9600) }, Opts{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	dev.Queue(readCmd, dataFrame(12, 20, 25))
	got, err := sense(d)
	if err != nil {
		t.Fatal(err)
	}
	want := []sensors.Reading{
		{Quantity: "pm1", Value: 12, Unit: "µg/m³"}, {Quantity: "pm25", Value: 20, Unit: "µg/m³"}, {Quantity: "pm10", Value: 25, Unit: "µg/m³"},
		{Quantity: "particles_0_3um", Value: 1000, Unit: "/0.1L"}, {Quantity: "particles_0_5um", Value: 800, Unit: "/0.1L"},
		{Quantity: "particles_1um", Value: 300, Unit: "/0.1L"}, {Quantity: "particles_2_5um", Value: 50, Unit: "/0.1L"},
		{Quantity: "particles_5um", Value: 10, Unit: "/0.1L"}, {Quantity: "particles_10um", Value: 2, Unit: "/0.1L"},
	}
	sensorstest.CheckReadings(t, got, want, 0)
	var names []string
	for _, q := range Quantities(Opts{}) {
		names = append(names, q.Name+" "+q.Unit)
	}
	var wantNames []string
	for _, r := range want {
		wantNames = append(wantNames, r.Quantity+" "+r.Unit)
	}
	if strings.Join(names, ",") != strings.Join(wantNames, ",") {
		t.Errorf("Quantities = %v, want %v", names, wantNames)
	}
	if qs := Quantities(Opts{NoCounts: true}); len(qs) != 3 {
		t.Errorf("Quantities without counts = %v", qs)
	}
}

// Active mode: the port is set to active, and Sense returns the next frame
// the sensor sends, not one that waited in the buffer since the last Sense.
func TestDev_Sense_active(t *testing.T) {
	u := sensorstest.NewUART(t, nil)
	d := newDev(t, u, "active")
	later := func(f []byte) { // the sensor sends f 300 ms from now, in two pieces
		go func() {
			time.Sleep(300 * time.Millisecond)
			u.Write(f[:10])
			time.Sleep(20 * time.Millisecond)
			u.Write(f[10:])
		}()
	}
	later(dataFrame(7, 8, 9))
	got, err := sense(d)
	if err != nil {
		t.Fatal(err)
	}
	checkPM(t, got, 7, 8, 9)
	if u.Count(activeCmd) != 1 {
		t.Fatalf("requests % x, want the active command", u.Requests())
	}

	u.Write(dataFrame(5, 5, 5)) // arrives between polls: stale at the next Sense
	time.Sleep(100 * time.Millisecond)
	later(dataFrame(1, 2, 3))
	got, err = sense(d)
	if err != nil {
		t.Fatal(err)
	}
	checkPM(t, got, 1, 2, 3)
	if u.Count(readCmd) != 0 {
		t.Fatal("active mode sent read requests")
	}
}

// The adapter is unplugged: Sense fails (and never blocks past its ctx);
// plugged back at the same path, the next Sense reopens it and reads.
func TestDev_Sense_unplugReplug(t *testing.T) {
	dev := script()
	u := sensorstest.NewUART(t, dev.Answer)
	d := newDev(t, u, "")
	dev.Queue(readCmd, dataFrame(1, 1, 1))
	if _, err := sense(d); err != nil {
		t.Fatal(err)
	}
	u.Unplug()
	if got, err := sense(d); err == nil || got != nil {
		t.Fatalf("Sense unplugged = %v, %v", got, err)
	}
	if _, err := sense(d); err == nil || !strings.Contains(err.Error(), "open") {
		t.Fatalf("Sense still unplugged = %v, want an open error", err)
	}
	u.Plug()
	dev.Queue(readCmd, dataFrame(4, 5, 6))
	got, err := sense(d)
	if err != nil {
		t.Fatal(err)
	}
	checkPM(t, got, 4, 5, 6)
	if d.Stats().Opens != 2 {
		t.Fatalf("Opens = %d, want 2", d.Stats().Opens)
	}
}

// No answer: Sense fails with frame.ErrTimeout when its ctx ends.
func TestDev_Sense_timeout(t *testing.T) {
	u := sensorstest.NewUART(t, nil)
	d := newDev(t, u, "passive")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if got, err := d.Sense(ctx); !errors.Is(err, frame.ErrTimeout) || got != nil {
		t.Fatalf("Sense = %v, %v; want ErrTimeout", got, err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Sense(context.Background()); !errors.Is(err, sensors.ErrHalted) {
		t.Fatalf("Sense after Halt = %v", err)
	}
}

func TestDriver(t *testing.T) {
	tests := []struct {
		opts map[string]sensors.Option
		want []string
	}{
		{map[string]sensors.Option{"port": {Value: "/dev/ttyAMA0", Line: 11}, "mode": {Value: "active", Line: 12}}, nil},
		{nil, []string{"gw.yaml:10: port: missing required option"}},
		{map[string]sensors.Option{"port": {Value: "", Line: 11}, "mode": {Value: "lazy", Line: 12}, "baud": {Value: 9600, Line: 13}},
			[]string{"gw.yaml:11: port: must not be empty", `gw.yaml:12: mode: "lazy" is not one of [passive active]`, "gw.yaml:13: baud: unknown option for driver pms5003"}},
		{map[string]sensors.Option{"port": {Value: "/dev/ttyAMA0", Line: 11}, "mdoe": {Value: "active", Line: 12}},
			[]string{`gw.yaml:12: mdoe: unknown option for driver pms5003 (did you mean "mode"?)`}},
		{map[string]sensors.Option{"port": {Value: "/dev/ttyAMA0", Line: 11}, "counts": {Value: "no", Line: 12}},
			[]string{`gw.yaml:12: counts: want true or false, got no`}},
		{map[string]sensors.Option{"port": {Value: "/dev/ttyAMA0", Line: 11}, "counts": {Value: false, Line: 12}}, nil},
	}
	active := sensorstest.Spec("pms5003", map[string]sensors.Option{"port": {Value: "/dev/ttyAMA0", Line: 11}, "mode": {Value: "active", Line: 12}})
	active.Timeout = time.Second
	sensorstest.CheckErrors(t, Driver(), active, "gw.yaml:12: mode: active mode waits up to 2.3 s for a frame: set timeout to 3s or more (it is 1s)")
	active.Timeout = 5 * time.Second
	sensorstest.CheckErrors(t, Driver(), active)
	for _, tt := range tests {
		err := Driver().Check(sensorstest.Spec("pms5003", tt.opts))
		if len(tt.want) == 0 && err != nil {
			t.Errorf("Check(%v) = %v", tt.opts, err)
		}
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Check(%v) = %v, want %q", tt.opts, err, w)
			}
		}
	}
	dev := script()
	u := sensorstest.NewUART(t, dev.Answer)
	s, err := Driver().Open(sensorstest.Spec("pms5003", map[string]sensors.Option{"port": {Value: u.Path, Line: 11}}), &sensorstest.Hardware{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Halt()
	dev.Queue(readCmd, dataFrame(3, 2, 1))
	got, err := s.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 9 || got[2].Value != 1 || got[3].Quantity != "particles_0_3um" {
		t.Fatalf("Sense = %+v", got)
	}
	qs, _ := Driver().Quantities(sensorstest.Spec("pms5003", map[string]sensors.Option{"port": {Value: "x", Line: 11}}))
	if len(qs) != 9 || qs[1] != (sensors.Quantity{Name: "pm25", Unit: "µg/m³"}) || qs[8] != (sensors.Quantity{Name: "particles_10um", Unit: "/0.1L"}) {
		t.Fatalf("Quantities = %v", qs)
	}
	qs, _ = Driver().Quantities(sensorstest.Spec("pms5003", map[string]sensors.Option{"port": {Value: "x", Line: 11}, "counts": {Value: false, Line: 12}}))
	if len(qs) != 3 {
		t.Fatalf("Quantities with counts: false = %v", qs)
	}
}
