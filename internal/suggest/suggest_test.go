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
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance = %d, want 3", d)
	}
}
