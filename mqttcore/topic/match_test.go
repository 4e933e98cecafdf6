package topic

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		filter, name string
		want         bool
	}{
		// §4.7.1.2, multi-level wildcard.
		{"sport/tennis/player1/#", "sport/tennis/player1", true},
		{"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
		{"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
		{"sport/#", "sport", true},
		{"#", "sport/tennis/player1", true},
		{"sport/tennis/#", "sport/tennis", true},
		{"sport/tennis/#", "sport/tennisplayer1", false},
		// §4.7.1.3, single-level wildcard.
		{"sport/tennis/+", "sport/tennis/player1", true},
		{"sport/tennis/+", "sport/tennis/player2", true},
		{"sport/tennis/+", "sport/tennis/player1/ranking", false},
		{"sport/+", "sport", false},
		{"sport/+", "sport/", true},
		{"sport/+", "sport/tennis/player1", false},
		{"sport/+/player1", "sport/tennis/player1", true},
		{"+/tennis/#", "sport/tennis/player1/ranking", true},
		{"+/+", "/finance", true},
		{"/+", "/finance", true},
		{"+", "/finance", false},
		// §4.7.2, topics beginning with '$' [MQTT-4.7.2-1].
		{"#", "$SYS/broker/uptime", false},
		{"#", "$SYS", false},
		{"+/monitor/Clients", "$SYS/monitor/Clients", false},
		{"+", "$SYS", false},
		{"$SYS/#", "$SYS/monitor/Clients", true},
		{"$SYS/#", "$SYS", true},
		{"$SYS/monitor/+", "$SYS/monitor/Clients", true},
		{"a/+", "a/$b", true}, // only the first level is special
		{"a/#", "a/$b/c", true},
		// §4.7.3, levels and case.
		{"ACCOUNTS", "Accounts", false},
		{"accounts", "accounts", true},
		{"/", "/", true},
		{"+/+", "/", true},
		{"+", "/", false},
		{"#", "/", true},
		{"a//b", "a//b", true},
		{"a/+/b", "a//b", true},
		{"a/b", "a/b/", false},
		{"a/b/", "a/b", false},
		{"a/b", "a/bc", false},
		{"a/bc", "a/b", false},
		{"my topic", "my topic", true},
		{"a/b/c", "a/b", false},
		{"a/b", "a/b/c", false},
		{"#", "a", true},
		{"+/#", "a", true},
		{"+/+/#", "a", false},
	}
	for _, tt := range tests {
		if got := Match(tt.filter, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.filter, tt.name, got, tt.want)
		}
	}
}

func TestMatch_NoAllocation(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		Match("sport/+/player1/#", "sport/tennis/player1/score/wimbledon")
	})
	if allocs != 0 {
		t.Fatalf("Match allocates %v times per call", allocs)
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		outer, inner string
		want         bool
	}{
		{"sensors/#", "sensors/+/temp", true},
		{"sensors/#", "sensors/kitchen/temp", true},
		{"sensors/#", "sensors/#", true},
		{"sensors/#", "sensors", true},
		{"sensors/#", "#", false},
		{"sensors/#", "+/kitchen", false},
		{"sensors/+", "sensors/#", false},
		{"sensors/+", "sensors/+", true},
		{"sensors/+", "sensors/kitchen", true},
		{"sensors/kitchen", "sensors/+", false},
		{"sensors/+/temp", "sensors/+/temp", true},
		{"sensors/+/temp", "sensors/+/#", false},
		{"+/+", "a/b", true},
		{"+", "a/b", false},
		{"#", "#", true},
		{"#", "a/+/#", true},
		{"+/#", "#", true}, // both match every non-$ name with at least one level
		{"#", "+", true},
		{"+", "#", false},
		{"a", "a", true},
		{"a", "b", false},
		{"a/#", "a", true},
		{"a/+", "a", false},
		// $ topics [MQTT-4.7.2-1].
		{"#", "$SYS/#", false},
		{"#", "$SYS", false},
		{"+/uptime", "$SYS/uptime", false},
		{"$SYS/#", "$SYS/+/uptime", true},
		{"$SYS/#", "#", false},
		{"+", "$SYS", false},
		{"a/#", "a/$b", true},
	}
	for _, tt := range tests {
		if got := Covers(tt.outer, tt.inner); got != tt.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tt.outer, tt.inner, got, tt.want)
		}
	}
}

// TestCovers_Exhaustive checks Covers against its definition on random
// filter pairs: outer covers inner exactly when every name inner matches is
// matched by outer. Names are enumerated over the filters' literals plus
// fresh ones and one level deeper than either filter, which decides the
// question for these filters exactly.
func TestCovers_Exhaustive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "", "$s"}
	names := allNames(append(alphabet, "z", "$z"), 4)
	agreeTrue := 0
	for range 3000 {
		outer, inner := randomFilter(r, alphabet, 3), randomFilter(r, alphabet, 3)
		want := true
		for _, n := range names {
			if Match(inner, n) && !Match(outer, n) {
				want = false
				break
			}
		}
		if got := Covers(outer, inner); got != want {
			t.Fatalf("Covers(%q, %q) = %v, want %v", outer, inner, got, want)
		}
		if want {
			agreeTrue++
		}
	}
	if agreeTrue < 100 {
		t.Fatalf("only %d covering pairs generated: the test exercises too little", agreeTrue)
	}
}

// randomFilter returns a valid filter of 1..depth levels over alphabet and
// the wildcards.
func randomFilter(r *rand.Rand, alphabet []string, depth int) string {
	for {
		if f := randomLevels(r, alphabet, depth); f != "" {
			return f
		}
	}
}

// randomLevels returns 1..depth levels over alphabet and the wildcards,
// '#' only last.
func randomLevels(r *rand.Rand, alphabet []string, depth int) string {
	n := 1 + r.IntN(depth)
	levels := make([]string, n)
	for i := range levels {
		switch x := r.IntN(len(alphabet) + 2); {
		case x < len(alphabet):
			levels[i] = alphabet[x]
		case x == len(alphabet):
			levels[i] = "+"
		default:
			levels[i] = "#"
			return strings.Join(levels[:i+1], "/")
		}
	}
	return strings.Join(levels, "/")
}

// randomName returns a topic name of 1..depth levels over alphabet.
func randomName(r *rand.Rand, alphabet []string, depth int) string {
	for {
		levels := make([]string, 1+r.IntN(depth))
		for i := range levels {
			levels[i] = alphabet[r.IntN(len(alphabet))]
		}
		if n := strings.Join(levels, "/"); n != "" {
			return n
		}
	}
}

// allNames returns every name of 1..depth levels over alphabet.
func allNames(alphabet []string, depth int) []string {
	var out []string
	var gen func(prefix string, d int)
	gen = func(prefix string, d int) {
		for _, l := range alphabet {
			n := l
			if d > 0 {
				n = prefix + "/" + l
			}
			if n != "" { // the empty string is not a topic name [MQTT-4.7.3-1]
				out = append(out, n)
			}
			if d+1 < depth {
				gen(n, d+1)
			}
		}
	}
	gen("", 0)
	return out
}
