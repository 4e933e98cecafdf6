package sensors_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/sensors"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

func openFake(sensors.Spec, sensors.Hardware) (sensors.Sensor, error) {
	return sensorstest.NewSensor(), nil
}

func TestRegistry_Register_errors(t *testing.T) {
	r := sensors.NewRegistry()
	if err := r.Register("sim", sensors.Driver{Open: openFake}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, driver string
		d            sensors.Driver
		want         string
	}{
		{"empty name", "", sensors.Driver{Open: openFake}, "sensors: can't register a driver with no name"},
		{"nil open", "x", sensors.Driver{}, `sensors: can't register driver "x" with nil Open`},
		{"duplicate", "sim", sensors.Driver{Open: openFake}, `sensors: can't register driver "sim" twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.Register(tt.driver, tt.d); err == nil || err.Error() != tt.want {
				t.Errorf("Register = %v, want %q", err, tt.want)
			}
		})
	}
	if got := r.Drivers(); len(got) != 1 || got[0] != "sim" {
		t.Errorf("Drivers = %v", got)
	}
}

func TestRegistry_Check_unknownDriver(t *testing.T) {
	r := sensors.NewRegistry()
	for _, n := range []string{"sim", "ds18b20", "bme280"} {
		r.Register(n, sensors.Driver{Open: openFake})
	}
	spec := sensors.Spec{Name: "kitchen", Driver: "bmp999", File: "/etc/gateway.yaml", Line: 42}
	for _, err := range []error{r.Check(spec), openErr(r, spec)} {
		if !errors.Is(err, sensors.ErrUnknownDriver) {
			t.Fatalf("err = %v, want ErrUnknownDriver", err)
		}
		msg := err.Error()
		for _, want := range []string{"/etc/gateway.yaml:42:", `"bmp999"`, `"kitchen"`, "bme280, ds18b20, sim"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
	}
	if err := sensors.NewRegistry().Check(spec); err == nil || !strings.Contains(err.Error(), "forget to register") {
		t.Errorf("empty registry: %v", err)
	}
}

func openErr(r *sensors.Registry, spec sensors.Spec) error {
	_, err := r.Open(spec, &sensorstest.Hardware{})
	return err
}

func TestRegistry_Check_driverCheck(t *testing.T) {
	r := sensors.NewRegistry()
	r.Register("opt", sensors.Driver{
		Check: func(spec sensors.Spec) error {
			spec.Options.Int("address", 0x76)
			return spec.Options.Err()
		},
		Open: openFake,
	})
	r.Register("bare", sensors.Driver{Open: openFake})
	spec := sensors.Spec{Name: "k", Driver: "opt", File: "g.yaml", Line: 3, Options: sensors.Options{
		File: "g.yaml",
		Values: map[string]sensors.Option{
			"address": {Value: "zz", Line: 5},
			"adress":  {Value: 1, Line: 6},
		},
	}}
	err := r.Check(spec)
	if err == nil {
		t.Fatal("Check = nil")
	}
	for _, want := range []string{"g.yaml:5: address: want an integer", "g.yaml:6: adress: unknown option"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	spec.Driver = "bare" // no Check: every option is unknown
	if err := r.Check(spec); err == nil || !strings.Contains(err.Error(), "g.yaml:5: address: unknown option") {
		t.Errorf("driver without options: Check = %v", err)
	}
	spec.Options = sensors.Options{}
	if err := r.Check(spec); err != nil {
		t.Errorf("driver without options, none given: Check = %v", err)
	}
}

func TestRegistry_Open(t *testing.T) {
	r := sensors.NewRegistry()
	boom := errors.New("fake: no such bus")
	r.Register("ok", sensors.Driver{Open: openFake})
	r.Register("bad", sensors.Driver{Open: func(sensors.Spec, sensors.Hardware) (sensors.Sensor, error) { return nil, boom }})
	r.Register("nil", sensors.Driver{Open: func(sensors.Spec, sensors.Hardware) (sensors.Sensor, error) { return nil, nil }})
	if s, err := r.Open(sensors.Spec{Name: "a", Driver: "ok"}, &sensorstest.Hardware{}); err != nil || s == nil {
		t.Errorf("Open = %v, %v", s, err)
	}
	if _, err := r.Open(sensors.Spec{Name: "a", Driver: "bad"}, &sensorstest.Hardware{}); !errors.Is(err, boom) ||
		!strings.Contains(err.Error(), `open "a"`) {
		t.Errorf("Open = %v, want wrapped %v", err, boom)
	}
	if _, err := r.Open(sensors.Spec{Name: "a", Driver: "nil"}, &sensorstest.Hardware{}); err == nil {
		t.Error("Open of a driver returning no sensor: nil error")
	}
}
