package modbus_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	mb "github.com/simonvetter/modbus"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/modbus"
	"github.com/edgegw/edgegw/sensors/modbus/modbustest"
)

// unit1 reads every value modbustest's unit 1 holds, with the encodings
// it holds them in; want is what Sense returns for them.
var (
	unit1 = []modbus.Point{
		{Quantity: "temperature", Address: 0, Scale: 0.1, Unit: "°C"},
		{Quantity: "setpoint", Address: 1, Type: modbus.Int16, Scale: 0.1, Unit: "°C"},
		{Quantity: "count", Address: 2, Type: modbus.Uint32},
		{Quantity: "balance", Address: 4, Type: modbus.Int32, Scale: 0.01, Offset: 1},
		{Quantity: "voltage", Address: 6, Type: modbus.Float32, Unit: "V"},
		{Quantity: "current", Address: 8, Type: modbus.Float32, LowWordFirst: true, Unit: "A"},
		{Quantity: "code", Address: 10, LittleEndian: true},
		{Quantity: "current_dcba", Address: 11, Type: modbus.Float32, LowWordFirst: true, LittleEndian: true, Unit: "A"},
		{Quantity: "mode", Address: 20},
		{Quantity: "frequency", Table: modbus.Input, Address: 0, Type: modbus.Float32, Unit: "Hz"},
		{Quantity: "pressure", Table: modbus.Input, Address: 2, Unit: "hPa"},
		{Quantity: "pump", Table: modbus.Coil, Address: 0},
		{Quantity: "fan", Table: modbus.Coil, Address: 1},
		{Quantity: "alarm", Table: modbus.Coil, Address: 5},
		{Quantity: "door", Table: modbus.Discrete, Address: 0},
	}
	want1 = map[string]string{
		"temperature": "21.5 °C", "setpoint": "-1 °C", "count": "123456 ", "balance": "-1233.56 ",
		"voltage": "230.5 V", "current": "-12.25 A", "code": "4660 ", "current_dcba": "-12.25 A",
		"mode": "7 ", "frequency": "50 Hz", "pressure": "1013 hPa", "pump": "1 ", "fan": "0 ",
		"alarm": "1 ", "door": "1 ",
	}
)

func newDev(t *testing.T, opts modbus.Opts) *modbus.Dev {
	t.Helper()
	d, err := modbus.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	return d
}

// values formats readings as quantity → "value unit", rounded to 2
// decimals (float32 sources).
func values(rs []sensors.Reading) map[string]string {
	m := map[string]string{}
	for _, r := range rs {
		m[r.Quantity] = strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", r.Value), "0"), ".") + " " + r.Unit
	}
	return m
}

func checkValues(t *testing.T, rs []sensors.Reading, want map[string]string) {
	t.Helper()
	got := values(rs)
	for q, w := range want {
		if got[q] != w {
			t.Errorf("%s = %q, want %q", q, got[q], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d readings %v, want %d", len(got), got, len(want))
	}
}

// TestDev_Sense_TCP reads every type and table from pymodbus over Modbus
// TCP, in as few requests as the addresses allow.
func TestDev_Sense_TCP(t *testing.T) {
	srv := modbustest.StartTCP(t)
	d := newDev(t, modbus.Opts{URL: "tcp://" + srv.Addr, UnitID: 1, Points: unit1, MaxGap: 8})
	rs, err := d.Sense(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, rs, want1)
	// holding 0-20 (the gap 13-19 bridged), input 0-2, coils 0-5, discrete 0.
	if st := d.Stats(); st.Requests != 4 || st.Connects != 1 {
		t.Errorf("Stats = %+v, want 4 requests on 1 connection", st)
	}
}

// TestDev_Sense_RTUOverTCP reads RTU frames through a TCP connection.
func TestDev_Sense_RTUOverTCP(t *testing.T) {
	srv := modbustest.StartRTUOverTCP(t)
	d := newDev(t, modbus.Opts{URL: "rtuovertcp://" + srv.Addr, UnitID: 1, Points: unit1})
	rs, err := d.Sense(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, rs, want1)
}

// TestDev_Sense_RTU reads two units on one serial line: pymodbus in RTU
// mode at one end of a socat pseudo-terminal pair.
func TestDev_Sense_RTU(t *testing.T) {
	srv := modbustest.StartRTU(t, 19200)
	d1 := newDev(t, modbus.Opts{URL: "rtu://" + srv.Addr, UnitID: 1, Baud: 19200, Points: unit1})
	d2 := newDev(t, modbus.Opts{URL: "rtu://" + srv.Addr, UnitID: 2, Baud: 19200, Points: []modbus.Point{
		{Quantity: "a", Address: 0, Type: modbus.Uint32}, {Quantity: "b", Table: modbus.Input},
	}})
	rs, err := d1.Sense(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, rs, want1)
	if st := d1.Stats(); st.Requests != 6 { // no max_gap: holding 0-12 and 20, coils 0-1 and 5
		t.Errorf("Stats = %+v, want 6 requests", st)
	}
	d1.Halt()
	rs, err = d2.Sense(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, rs, map[string]string{"a": fmt.Sprint(42<<16|43) + " ", "b": "44 "})
}

// TestDev_Sense_exception: a point past the device's registers gets
// exception 2 for its request; the other requests' readings still come.
func TestDev_Sense_exception(t *testing.T) {
	srv := modbustest.StartTCP(t)
	d := newDev(t, modbus.Opts{URL: "tcp://" + srv.Addr, UnitID: 1, Points: []modbus.Point{
		{Quantity: "temperature", Address: 0, Scale: 0.1},
		{Quantity: "missing", Address: 1000, Type: modbus.Float32},
		{Quantity: "pump", Table: modbus.Coil, Address: 0},
	}})
	for range 2 { // the connection stays up after an exception
		rs, err := d.Sense(t.Context())
		checkValues(t, rs, map[string]string{"temperature": "21.5 ", "pump": "1 "})
		var re *modbus.RequestError
		if !errors.As(err, &re) || !errors.Is(err, mb.ErrIllegalDataAddress) || !modbus.Exception(err) {
			t.Fatalf("err = %v, want illegal data address", err)
		}
		if want := "modbus: unit 1, holding 1000-1001: illegal data address"; err.Error() != want {
			t.Errorf("err = %q, want %q", err, want)
		}
	}
	if st := d.Stats(); st.Connects != 1 || st.Exceptions != 2 || st.Failures != 0 {
		t.Errorf("Stats = %+v, want 1 connect, 2 exceptions", st)
	}
}

// TestDev_Sense_timeout: a unit that never answers, and a server that
// hangs, time out after RequestTimeout; the driver reconnects and reads
// again once the server answers.
func TestDev_Sense_timeout(t *testing.T) {
	srv := modbustest.StartTCP(t)
	silent := newDev(t, modbus.Opts{URL: "tcp://" + srv.Addr, UnitID: 9, RequestTimeout: 200 * time.Millisecond,
		Points: []modbus.Point{{Quantity: "x"}}})
	start := time.Now()
	if _, err := silent.Sense(t.Context()); !errors.Is(err, mb.ErrRequestTimedOut) || modbus.Exception(err) {
		t.Errorf("unit 9: err = %v, want a timeout", err)
	}
	if el := time.Since(start); el < 200*time.Millisecond || el > 2*time.Second {
		t.Errorf("timed out after %v, want about 200ms", el)
	}

	d := newDev(t, modbus.Opts{URL: "tcp://" + srv.Addr, UnitID: 1, RequestTimeout: 200 * time.Millisecond,
		Points: []modbus.Point{{Quantity: "t", Scale: 0.1}}})
	sense(t, d, "21.5 ")
	srv.Pause()
	if _, err := d.Sense(t.Context()); !errors.Is(err, mb.ErrRequestTimedOut) {
		t.Errorf("paused: err = %v, want a timeout", err)
	}
	srv.Resume()
	sense(t, d, "21.5 ")
	if st := d.Stats(); st.Connects < 2 || st.Failures < 1 {
		t.Errorf("Stats = %+v, want a reconnect after a failure", st)
	}
}

// TestDev_Sense_restart: a server stopped (a slave losing power) fails
// Sense with a connection error, and the driver reads again once the
// server is back on the same address.
func TestDev_Sense_restart(t *testing.T) {
	srv := modbustest.StartTCP(t)
	d := newDev(t, modbus.Opts{URL: "tcp://" + srv.Addr, UnitID: 1, RequestTimeout: 500 * time.Millisecond,
		Points: []modbus.Point{{Quantity: "t", Scale: 0.1}}})
	sense(t, d, "21.5 ")
	srv.Stop()
	for i := range 2 { // the lost connection, then the refused reconnect
		rs, err := d.Sense(t.Context())
		if err == nil || rs != nil {
			t.Fatalf("stopped server, Sense %d = %v, %v; want an error", i, rs, err)
		}
		t.Logf("Sense %d: %v", i, err)
	}
	srv.Start()
	sense(t, d, "21.5 ")
}

// TestDev_Sense_RTUrestart: a slave on a serial line that loses power
// times out; the port stays open and the reads come back with the slave.
func TestDev_Sense_RTUrestart(t *testing.T) {
	srv := modbustest.StartRTU(t, 19200)
	d := newDev(t, modbus.Opts{URL: "rtu://" + srv.Addr, UnitID: 1, Baud: 19200, RequestTimeout: 200 * time.Millisecond,
		Points: []modbus.Point{{Quantity: "t", Scale: 0.1}}})
	sense(t, d, "21.5 ")
	srv.Stop()
	for range 2 {
		if rs, err := d.Sense(t.Context()); !errors.Is(err, mb.ErrRequestTimedOut) || rs != nil {
			t.Fatalf("slave off: Sense = %v, %v; want a timeout", rs, err)
		}
	}
	srv.Start()
	sense(t, d, "21.5 ")
	if st := d.Stats(); st.Connects != 1 || st.Failures < 2 {
		t.Errorf("Stats = %+v, want 1 connect (the port kept), 2 failures or more", st)
	}
}

// TestDev_Sense_RTUunplug: the serial adapter pulled out (the device node
// gone) fails Sense and closes the port; once it is back the port is
// reopened and the reads resume.
func TestDev_Sense_RTUunplug(t *testing.T) {
	srv := modbustest.StartRTU(t, 19200)
	d := newDev(t, modbus.Opts{URL: "rtu://" + srv.Addr, UnitID: 1, Baud: 19200, RequestTimeout: 200 * time.Millisecond,
		Points: []modbus.Point{{Quantity: "t", Scale: 0.1}}})
	sense(t, d, "21.5 ")
	srv.Unplug()
	var err error
	for range 3 {
		if _, err = d.Sense(t.Context()); err == nil {
			t.Fatal("unplugged: Sense succeeded")
		}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unplugged: err = %v, want the port missing", err)
	}
	srv.Replug()
	sense(t, d, "21.5 ")
	if st := d.Stats(); st.Connects != 2 {
		t.Errorf("Stats = %+v, want the port opened twice", st)
	}
}

// TestDev_Sense_ctx: a cancelled ctx ends Sense before its requests.
func TestDev_Sense_ctx(t *testing.T) {
	srv := modbustest.StartTCP(t)
	d := newDev(t, modbus.Opts{URL: "tcp://" + srv.Addr, UnitID: 1, Points: unit1})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if rs, err := d.Sense(ctx); !errors.Is(err, context.Canceled) || len(rs) != 0 {
		t.Errorf("Sense = %v, %v; want context.Canceled", rs, err)
	}
}

// sense calls Sense until it returns one reading, want, for up to 15s: as
// the poller would, it retries an answer slower than the request timeout
// (on a loaded machine pymodbus may be slow to answer after a restart).
func sense(t *testing.T, d *modbus.Dev, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rs, err := d.Sense(t.Context())
		if err == nil && len(rs) == 1 && values(rs)[rs[0].Quantity] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Sense = %v, %v; want one reading %q", rs, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDriver_sharedLine: sensors of one driver on one serial port share it:
// units 1 and 2 read concurrently, never mixing their frames, while unit 9
// never answers; a sensor asking for other line settings is refused.
func TestDriver_sharedLine(t *testing.T) {
	srv := modbustest.StartRTU(t, 38400)
	drv := modbus.Driver()
	open := func(unit int, baud int, pts ...map[string]any) (sensors.Sensor, error) {
		return drv.Open(spec(map[string]sensors.Option{
			"port": {Value: srv.Addr}, "baud": {Value: baud}, "unit_id": {Value: unit},
			"request_timeout": {Value: "1s"}, "points": points(pts...),
		}), nil)
	}
	var devs []sensors.Sensor
	for _, o := range []struct {
		unit int
		pt   map[string]any
	}{
		{1, map[string]any{"quantity": "v", "address": 6, "type": "float32"}},
		{2, map[string]any{"quantity": "v", "address": 0, "type": "uint32"}},
		{9, map[string]any{"quantity": "v", "address": 0}},
	} {
		s, err := open(o.unit, 38400, o.pt)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Halt()
		devs = append(devs, s)
	}
	if _, err := open(3, 9600, map[string]any{"quantity": "v", "address": 0}); err == nil ||
		!strings.Contains(err.Error(), "modbus: rtu://"+srv.Addr+": another sensor uses it with 38400 baud, parity none, 2 stop bits, request_timeout 1s, this one asks for 9600 baud,") {
		t.Errorf("other baud on the same port: err = %v", err)
	}

	want := []string{"230.5 ", fmt.Sprint(42<<16|43) + " ", ""}
	errs := make(chan error, 3*5)
	for i, d := range devs {
		go func() {
			for range 5 {
				rs, err := d.Sense(t.Context())
				switch {
				case i == 2 && !errors.Is(err, mb.ErrRequestTimedOut):
					errs <- fmt.Errorf("unit 9: %v, %v; want a timeout", rs, err)
				case i < 2 && (err != nil || values(rs)["v"] != want[i]):
					errs <- fmt.Errorf("unit %d: %v, %v; want %q", i+1, rs, err, want[i])
				default:
					errs <- nil
				}
			}
		}()
	}
	for range 3 * 5 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if st := devs[0].(*modbus.Dev).Stats(); st.Connects+devs[1].(*modbus.Dev).Stats().Connects+devs[2].(*modbus.Dev).Stats().Connects != 1 {
		t.Errorf("the port was opened more than once: unit 1 %+v", st)
	}
}

func TestNew_errors(t *testing.T) {
	pt := []modbus.Point{{Quantity: "v"}}
	tests := []struct {
		opts modbus.Opts
		want string
	}{
		{modbus.Opts{URL: "tcp://", Points: pt}, `modbus: bad url "tcp://": want tcp://host:port`},
		{modbus.Opts{URL: "rtu://dev/ttyUSB0", Points: pt}, "want rtu:// and the device's absolute path"},
		{modbus.Opts{URL: "tcp://x:502"}, "modbus: no points"},
		{modbus.Opts{URL: "rtu:///dev/ttyUSB0", Points: pt}, "modbus: unit id 0 is outside 1…247"},
		{modbus.Opts{URL: "rtu:///dev/ttyUSB0", UnitID: 1, Parity: "mark", Points: pt}, `modbus: parity "mark" is not none, even or odd`},
		{modbus.Opts{URL: "rtu:///dev/ttyUSB0", UnitID: 1, StopBits: 3, Points: pt}, "modbus: 3 stop bits"},
		{modbus.Opts{URL: "tcp://x", Points: []modbus.Point{{Quantity: "v"}, {Quantity: "v", Address: 1}}}, `modbus: quantity "v" used twice`},
		{modbus.Opts{URL: "tcp://x", Points: []modbus.Point{{Quantity: "v", Table: "register"}}}, "modbus: v (register 0, uint16): unknown table"},
		{modbus.Opts{URL: "tcp://x", Points: []modbus.Point{{Quantity: "v", Type: "int8"}}}, "modbus: v (holding 0, int8): unknown type"},
		{modbus.Opts{URL: "tcp://x", Points: []modbus.Point{{Quantity: "v", Type: modbus.Bool}}}, "type bool does not suit table holding"},
		{modbus.Opts{URL: "tcp://x", Points: []modbus.Point{{Quantity: "v", Table: modbus.Coil, Type: modbus.Uint16}}}, "type uint16 does not suit table coil"},
		{modbus.Opts{URL: "tcp://x", Points: []modbus.Point{{Quantity: "v", Address: 65535, Type: modbus.Float32}}}, "ends past address 65535"},
		{modbus.Opts{URL: "tcp://x", Points: []modbus.Point{{Quantity: "status"}}}, "modbus: sensors: bad quantity name"},
	}
	for _, tt := range tests {
		if _, err := modbus.New(&tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v, want %q", tt.opts, err, tt.want)
		}
	}
}
