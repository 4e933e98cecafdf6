package topic

import (
	"errors"
	"strings"
	"testing"
)

func TestLimits_Check(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("a/", n-1) + "a" }
	tests := []struct {
		name   string
		limits Limits
		topic  string
		want   error
	}{
		{"no limits", Limits{}, deep(32000), nil},
		{"at the level limit", Limits{MaxLevels: 200}, deep(200), nil},
		{"one level over", Limits{MaxLevels: 200}, deep(201), ErrTooManyLevels},
		{"empty levels count", Limits{MaxLevels: 3}, "///", ErrTooManyLevels},
		{"wildcards count", Limits{MaxLevels: 2}, "+/+/#", ErrTooManyLevels},
		{"at the length limit", Limits{MaxLength: 5}, "a/b/c", nil},
		{"over the length limit", Limits{MaxLength: 4}, "a/b/c", ErrOverLength},
		{"length checked first", Limits{MaxLevels: 1, MaxLength: 1}, "a/b", ErrOverLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.limits.Check(tt.topic); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestLimits_Check_NoAlloc(t *testing.T) {
	l, s := Limits{MaxLevels: 200, MaxLength: 4096}, strings.Repeat("level/", 100)+"x"
	if n := testing.AllocsPerRun(100, func() { _ = l.Check(s) }); n != 0 {
		t.Fatalf("%v allocations per accepted Check", n)
	}
}
