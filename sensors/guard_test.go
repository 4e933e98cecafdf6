package sensors

import (
	"context"
	"errors"
	"testing"
)

func TestGuard_Halt(t *testing.T) {
	var g Guard
	stops := 0
	stop := func() error { stops++; return nil }
	if err := g.Halt(stop); err != nil {
		t.Fatal(err)
	}
	if err := g.Halt(stop); err != nil || stops != 1 {
		t.Fatalf("second Halt = %v after %d stops, want nil after 1", err, stops)
	}
	if _, err := g.Sense(context.Background(), nil); !errors.Is(err, ErrHalted) {
		t.Fatalf("Sense after Halt = %v", err)
	}
}
