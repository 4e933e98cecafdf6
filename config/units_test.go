package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Size
	}{
		{"0", 0},
		{"1000", 1000},
		{"1B", 1},
		{"10KB", 10 * 1000},
		{"10kB", 10 * 1000},
		{"10KiB", 10 * 1024},
		{"1MiB", 1 << 20},
		{"64MiB", 64 << 20},
		{"512MiB", 512 << 20},
		{"2MB", 2e6},
		{"3GB", 3e9},
		{"1GiB", 1 << 30},
		{"2TB", 2e12},
		{"1TiB", 1 << 40},
		{"64 MiB", 64 << 20},
		{" 5KiB ", 5 << 10},
		{"8388607TiB", 8388607 << 40},
	} {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseSize_bad(t *testing.T) {
	for _, in := range []string{"", "MiB", "-1", "-1KiB", "1.5MiB", "10 kib", "10K", "10M", "10mb", "1 MiB B", "0x10", "1e3", "8388608TiB", "99999999999999999999"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		} else if !strings.Contains(err.Error(), "size") {
			t.Errorf("ParseSize(%q) error %q does not say it is about a size", in, err)
		}
	}
}

// TestSize_text checks that MarshalText output parses back to the same size
// and uses the largest exact unit.
func TestSize_text(t *testing.T) {
	for _, tt := range []struct {
		in   Size
		want string
	}{
		{0, "0"}, {1, "1"}, {999, "999"}, {1000, "1KB"}, {1024, "1KiB"}, {1500, "1500"},
		{10240, "10KiB"}, {1 << 20, "1MiB"}, {1e6, "1MB"}, {512 << 20, "512MiB"}, {3 << 40, "3TiB"}, {1024000, "1000KiB"},
	} {
		b, err := tt.in.MarshalText()
		if err != nil || string(b) != tt.want {
			t.Errorf("Size(%d).MarshalText() = %q, %v; want %q", tt.in, b, err, tt.want)
		}
		var back Size
		if err := back.UnmarshalText(b); err != nil || back != tt.in {
			t.Errorf("UnmarshalText(%q) = %d, %v; want %d", b, back, err, tt.in)
		}
	}
	var s Size
	if err := s.UnmarshalText([]byte("12 parsecs")); err == nil || !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("UnmarshalText(bad) = %v, want a config: error", err)
	}
}

func TestDuration_text(t *testing.T) {
	for _, tt := range []struct {
		text string
		want time.Duration
		out  string
	}{
		{"0s", 0, "0s"},
		{"250ms", 250 * time.Millisecond, "250ms"},
		{"30s", 30 * time.Second, "30s"},
		{"90s", 90 * time.Second, "1m30s"},
		{"2m", 2 * time.Minute, "2m"},
		{"1h", time.Hour, "1h"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"1h0m5s", time.Hour + 5*time.Second, "1h0m5s"},
		{"1.5s", 1500 * time.Millisecond, "1.5s"},
		{"-1s", -time.Second, "-1s"},
	} {
		var d Duration
		if err := d.UnmarshalText([]byte(tt.text)); err != nil || time.Duration(d) != tt.want {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", tt.text, time.Duration(d), err, tt.want)
			continue
		}
		b, _ := d.MarshalText()
		if string(b) != tt.out {
			t.Errorf("Duration(%v).MarshalText() = %q, want %q", tt.want, b, tt.out)
		}
		var back Duration
		if err := back.UnmarshalText(b); err != nil || back != d {
			t.Errorf("round trip of %q gave %v, %v", b, back, err)
		}
	}
	for _, bad := range []string{"", "30", "10 seconds", "1d", "s"} {
		var d Duration
		if err := d.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) = %v, want an error", bad, d)
		}
	}
}

// TestParse_unitsInFile checks durations and sizes where they are used, so
// the decoder is covered too, including a plain YAML integer as a size.
func TestParse_unitsInFile(t *testing.T) {
	c := mustParse(t, `
gateway: {id: x}
broker:
  limits: {max_packet_size: 70000}
  sys_interval: 1m30s
bridge:
  addresses: ["tcp://up"]
  queue: {max_bytes: 10KB}
  reconnect: {min_delay: 500ms, max_delay: 1h}
`)
	if c.Broker.Limits.MaxPacketSize != 70000 || c.Bridge.Queue.MaxBytes != 10000 {
		t.Errorf("sizes = %d, %d; want 70000, 10000", c.Broker.Limits.MaxPacketSize, c.Bridge.Queue.MaxBytes)
	}
	if time.Duration(c.Broker.SysInterval) != 90*time.Second || time.Duration(c.Bridge.Reconnect.MinDelay) != 500*time.Millisecond ||
		time.Duration(c.Bridge.Reconnect.MaxDelay) != time.Hour {
		t.Errorf("durations = %v %v %v", c.Broker.SysInterval, c.Bridge.Reconnect.MinDelay, c.Bridge.Reconnect.MaxDelay)
	}
}
