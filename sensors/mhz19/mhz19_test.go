package mhz19

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/frame"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// The manual's example exchange: the read command, and an answer of
// 0x0260 = 608 ppm with checksum 0xD1.
var (
	readCmd        = []byte{0xFF, 0x01, 0x86, 0x00, 0x00, 0x00, 0x00, 0x00, 0x79}
	manualAnswer   = []byte{0xFF, 0x86, 0x02, 0x60, 0x47, 0x00, 0x00, 0x00, 0xD1}
	answer1200     = []byte{0xFF, 0x86, 0x04, 0xB0, 0x47, 0x00, 0x00, 0x00, 0x7F} // 0x04B0 = 1200 ppm
	badAnswer      = []byte{0xFF, 0x86, 0x02, 0x60, 0x47, 0x00, 0x00, 0x00, 0xD2}
	garbageAndFake = []byte{0x86, 0x00, 0xFF, 0xFF, 0x86, 0x01} // stray bytes, a header cut short
)

func sense(s sensors.Sensor) ([]sensors.Reading, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return s.Sense(ctx)
}

func open(t *testing.T, u *sensorstest.UART) sensors.Sensor {
	t.Helper()
	s, err := Driver().Open(sensors.Spec{Name: "co2", Driver: "mhz19", File: "gw.yaml", Line: 10,
		Options: sensors.Options{File: "gw.yaml", Driver: "mhz19", Values: map[string]sensors.Option{"port": {Value: u.Path, Line: 11}}}},
		&sensorstest.Hardware{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Halt() })
	return s
}

func TestDev_Sense(t *testing.T) {
	dev := &sensorstest.Script{}
	u := sensorstest.NewUART(t, dev.Answer)
	s := open(t, u)
	tests := []struct {
		name   string
		answer []byte
		want   float64 // 0: want ErrChecksum
	}{
		{"manual example", manualAnswer, 608},
		{"bad checksum", badAnswer, 0},
		{"after garbage", append(append([]byte(nil), garbageAndFake...), answer1200...), 1200},
	}
	for _, tt := range tests {
		dev.Queue(readCmd, tt.answer)
		got, err := sense(s)
		if tt.want == 0 {
			if !errors.Is(err, frame.ErrChecksum) || got != nil {
				t.Fatalf("%s: Sense = %v, %v; want ErrChecksum", tt.name, got, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(got) != 1 || got[0] != (sensors.Reading{Quantity: "co2", Value: tt.want, Unit: "ppm"}) {
			t.Fatalf("%s: Sense = %+v, want %v ppm", tt.name, got, tt.want)
		}
	}
	if n := u.Count(readCmd); n != 3 {
		t.Fatalf("%d read commands, want 3: % x", n, u.Requests())
	}
	st := s.(*Dev).Stats()
	// Bad: the corrupted answer, and the cut header in the garbage, whose
	// nine bytes run into the real answer.
	if st.Frames != 2 || st.BadChecksum != 2 || st.Garbage < 4 {
		t.Fatalf("Stats = %+v, want 2 frames, 2 bad, garbage", st)
	}
}

func TestDev_Sense_noAnswerAndUnplug(t *testing.T) {
	dev := &sensorstest.Script{}
	u := sensorstest.NewUART(t, dev.Answer)
	s := open(t, u)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := s.Sense(ctx); !errors.Is(err, frame.ErrTimeout) {
		t.Fatalf("Sense without an answer = %v, want ErrTimeout", err)
	}
	u.Unplug()
	if _, err := sense(s); err == nil {
		t.Fatal("Sense unplugged gave no error")
	}
	if _, err := sense(s); err == nil || !strings.Contains(err.Error(), "mhz19: frame: open "+u.Path) {
		t.Fatalf("Sense unplugged = %v", err)
	}
	u.Plug()
	dev.Queue(readCmd, manualAnswer)
	if got, err := sense(s); err != nil || len(got) != 1 || got[0].Value != 608 {
		t.Fatalf("Sense replugged = %v, %v", got, err)
	}
}

func TestDriver_Check(t *testing.T) {
	err := Driver().Check(sensors.Spec{Name: "co2", Driver: "mhz19", File: "gw.yaml", Line: 10,
		Options: sensors.Options{File: "gw.yaml", Driver: "mhz19", Values: map[string]sensors.Option{"prot": {Value: "/dev/ttyS0", Line: 11}}}})
	for _, w := range []string{"gw.yaml:10: port: missing required option", `gw.yaml:11: prot: unknown option for driver mhz19 (did you mean "port"?)`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Check = %v, want %q", err, w)
		}
	}
}
