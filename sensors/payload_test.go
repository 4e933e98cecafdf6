package sensors

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestMarshalReading(t *testing.T) {
	at := time.Date(2026, 11, 22, 5, 0, 0, 123999999, time.FixedZone("EST", -5*3600))
	tests := []struct {
		name   string
		r      Reading
		synced bool
		want   string
	}{
		{"utc millis", Reading{Quantity: "t", Value: 21.53, Unit: "°C", Time: at}, true,
			`{"value":21.53,"unit":"°C","ts":"2026-11-22T10:00:00.123Z"}`},
		{"unsynced", Reading{Quantity: "t", Value: -3, Time: at}, false,
			`{"value":-3,"unit":"","ts":"2026-11-22T10:00:00.123Z","clock":"unsynced"}`},
		{"1970", Reading{Quantity: "t", Value: 1e-7, Time: time.Unix(5, 0)}, false,
			`{"value":1e-7,"unit":"","ts":"1970-01-01T00:00:05.000Z","clock":"unsynced"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := MarshalReading(tt.r, tt.synced)
			if err != nil || string(b) != tt.want {
				t.Errorf("got %s, %v\nwant %s", b, err, tt.want)
			}
		})
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := MarshalReading(Reading{Quantity: "t", Value: v}, true); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("MarshalReading(%v) = %v, want ErrInvalidValue", v, err)
		}
	}
}

func TestValidQuantity(t *testing.T) {
	good := []string{"temperature", "28-0316a2794bff", "pm2.5", "température", "$x"}
	bad := []string{"", "a/b", "+", "#", "status", "set", "tab\there", "\xff", strings.Repeat("q", 65)}
	for _, q := range good {
		if err := ValidQuantity(q); err != nil {
			t.Errorf("ValidQuantity(%q) = %v", q, err)
		}
	}
	for _, q := range bad {
		if err := ValidQuantity(q); !errors.Is(err, ErrBadQuantity) {
			t.Errorf("ValidQuantity(%q) = %v, want ErrBadQuantity", q, err)
		}
	}
}

func TestMarshalStatus(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	if got := string(MarshalStatus(nil, at)); got != `{"state":"ok","ts":"2026-11-22T10:00:00.000Z"}` {
		t.Errorf("ok status = %s", got)
	}
	got := string(MarshalStatus(errors.New(`ds18b20: "x" gone`), at))
	if got != `{"state":"error","error":"ds18b20: \"x\" gone","ts":"2026-11-22T10:00:00.000Z"}` {
		t.Errorf("error status = %s", got)
	}
}
