package suggest

import "testing"

func TestClosest(t *testing.T) {
	known := []string{"interval", "quantities", "qos", "topic"}
	for _, tt := range []struct {
		key, want string
		ok        bool
	}{
		{"intervall", "interval", true},
		{"quantites", "quantities", true},
		{"qso", "qos", true},
		{"colour", "", false},
		{"", "", false},
	} {
		if got, ok := Closest(tt.key, known); got != tt.want || ok != tt.ok {
			t.Errorf("Closest(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	// Within a third of the key's length plus one: 3 edits for 6 letters.
	if got, ok := Closest("abcdef", []string{"abcxyz"}); !ok || got != "abcxyz" {
		t.Errorf("Closest 3 edits away = %q, %v; want abcxyz", got, ok)
	}
	if got, ok := Closest("abcdef", []string{"abwxyz"}); ok {
		t.Errorf("Closest 4 edits away = %q, want none", got)
	}
	if got, _ := Closest("ab", []string{"xb", "ax"}); got != "xb" {
		t.Errorf("Closest among equally close = %q, want the first, xb", got)
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance = %d, want 3", d)
	}
}
