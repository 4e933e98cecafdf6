package config

import "testing"

// TestParse_retainDefault: state drivers (gpio_in, gpio_out) publish retained
// unless told otherwise; measurements do not.
func TestParse_retainDefault(t *testing.T) {
	c, err := Parse("retain.yaml", []byte(`gateway: {id: t}
sensors:
  - {name: button, driver: gpio_in, pin: GPIO17}
  - {name: relay, driver: gpio_out, pin: GPIO27, retain: false}
  - {name: temp, driver: sim}
`))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false, false} {
		if got := c.Sensors[i].Retain; got != want {
			t.Errorf("sensors[%d] (%s) retain = %v, want %v", i, c.Sensors[i].Driver, got, want)
		}
	}
}
