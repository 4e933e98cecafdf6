package sensors

import (
	"context"
	"testing"
	"time"
)

func TestBackoff_Next(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 10 * time.Second}
	want := []time.Duration{1, 2, 4, 8, 10, 10}
	for i, w := range want {
		if got := b.Next(); got != w*time.Second {
			t.Fatalf("delay %d = %v, want %v", i, got, w*time.Second)
		}
	}
	b.Reset()
	if got := b.Next(); got != time.Second {
		t.Errorf("after Reset = %v, want 1s", got)
	}
	var zero Backoff
	if got := zero.Next(); got != time.Second {
		t.Errorf("zero value first delay = %v, want 1s", got)
	}
	odd := Backoff{Min: 3 * time.Second, Max: 2 * time.Second} // cap below min: min wins
	if a, b := odd.Next(), odd.Next(); a != 3*time.Second || b != 3*time.Second {
		t.Errorf("Max < Min: %v, %v, want 3s, 3s", a, b)
	}
}

func TestSleep_cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep on a cancelled ctx reported a full delay")
	}
	if !Sleep(t.Context(), 0) {
		t.Error("Sleep(0) on a live ctx reported cancellation")
	}
}
