package auth

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/mqttcore/topic"
)

// check is one ACL question and its expected answer.
type check struct {
	op                 string // "pub", "sub" or "read"
	client, user, what string
	want               bool
}

func runChecks(t *testing.T, rules []Rule, checks []check) {
	t.Helper()
	a := mustNew(t, true, nil, rules)
	for _, c := range checks {
		var got bool
		switch c.op {
		case "pub":
			got = a.CanPublish(c.client, c.user, c.what)
		case "sub":
			got = a.CanSubscribe(c.client, c.user, c.what)
		case "read":
			got = a.CanRead(c.client, c.user, c.what)
		default:
			t.Fatalf("bad op %q", c.op)
		}
		if got != c.want {
			t.Errorf("%s(client %q, user %q, %q) = %v, want %v", c.op, c.client, c.user, c.what, got, c.want)
		}
	}
}

func TestAuth_ACL(t *testing.T) {
	tests := []struct {
		name   string
		rules  []Rule
		checks []check
	}{
		{"no rules allow everything", nil, []check{
			{"pub", "c", "", "any/topic", true},
			{"sub", "c", "", "#", true},
			{"sub", "c", "u", "$SYS/#", true},
		}},
		{"rules deny by default", []Rule{{"", "sensors/#", ReadWrite}}, []check{
			{"pub", "c", "", "sensors/a", true},
			{"sub", "c", "", "sensors/+", true},
			{"pub", "c", "", "other", false},
			{"sub", "c", "", "other/#", false},
			{"sub", "c", "", "#", true}, // sensors/a is readable
			{"read", "c", "", "other", false},
		}},
		{"first match wins", []Rule{
			{"app", "sensors/#", Read},
			{"", "#", ReadWrite},
		}, []check{
			{"pub", "c", "app", "sensors/a", false}, // the read rule matched first
			{"sub", "c", "app", "sensors/#", true},
			{"pub", "c", "app", "other/a", true},
			{"pub", "c", "ops", "sensors/a", true}, // rule 1 is app's only
			{"pub", "c", "", "sensors/a", true},
		}},
		{"read covers subscriptions", []Rule{{"", "sensors/#", Read}}, []check{
			{"sub", "c", "", "sensors/+/temp", true},
			{"sub", "c", "", "sensors", true},
			{"sub", "c", "", "sensors/#", true},
			{"sub", "c", "", "#", true},
			{"sub", "c", "", "+/temp", true}, // sensors/temp
			{"sub", "c", "", "+/+/+/+", true},
			{"sub", "c", "", "other/+", false},
			{"read", "c", "", "other/temp", false},
			{"pub", "c", "", "sensors/a", false},
		}},
		{"write allows publish only", []Rule{{"", "cmd/+", Write}}, []check{
			{"pub", "c", "", "cmd/reboot", true},
			{"pub", "c", "", "cmd/reboot/now", false},
			{"sub", "c", "", "cmd/reboot", false},
		}},
		{"deny refuses both and overlapping subscriptions", []Rule{
			{"", "secret/#", Deny},
			{"", "#", ReadWrite},
		}, []check{
			{"pub", "c", "", "secret/key", false},
			{"pub", "c", "", "secret", false},
			{"sub", "c", "", "secret/key", false},
			{"sub", "c", "", "secret/#", false},
			{"sub", "c", "", "#", true},     // granted; secret/key is filtered at delivery
			{"sub", "c", "", "+/key", true}, // likewise
			{"sub", "c", "", "+/+/+", true},
			{"sub", "c", "", "sensors/#", true},
			{"pub", "c", "", "sensors/a", true},
			{"read", "c", "", "secret/key", false},
			{"read", "c", "", "secret", false},
			{"read", "c", "", "sensors/a", true},
		}},
		{"write-only rule blocks wider reads", []Rule{
			{"", "cmd/#", Write},
			{"", "#", Read},
		}, []check{
			{"sub", "c", "", "#", true},
			{"sub", "c", "", "cmd/x", false},
			{"sub", "c", "", "cmd/#", false},
			{"sub", "c", "", "status/#", true},
			{"read", "c", "", "cmd/x", false},
			{"read", "c", "", "status/x", true},
			{"pub", "c", "", "cmd/x", true},
			{"pub", "c", "", "status/x", false},
		}},
		{"%c and %u", []Rule{
			{"", "clients/%c/#", ReadWrite},
			{"", "users/%u/+", Read},
		}, []check{
			{"pub", "dev1", "", "clients/dev1/out", true},
			{"sub", "dev1", "", "clients/dev1/#", true},
			{"pub", "dev1", "", "clients/dev2/out", false},
			{"sub", "dev1", "", "clients/+/out", true}, // its own clients/dev1/out
			{"sub", "dev1", "", "clients/dev2/#", false},
			{"read", "dev1", "", "clients/dev2/out", false},
			{"read", "dev1", "", "clients/dev1/out", true},
			{"sub", "dev1", "alice", "users/alice/inbox", true},
			{"sub", "dev1", "alice", "users/bob/inbox", false},
			{"sub", "dev1", "", "users/+/inbox", false},
			{"sub", "dev1", "", "users//inbox", false}, // anonymous: %u is empty, the rule does not match
		}},
		{"injection through identifiers", []Rule{
			{"", "clients/%c/#", ReadWrite},
			{"", "%u/data", ReadWrite},
			{"", "%c/#", ReadWrite},
		}, []check{
			{"pub", "+", "", "clients/dev2/out", false},
			{"sub", "+", "", "clients/+/out", false},
			{"sub", "#", "", "clients/#", false},
			{"sub", "#", "", "#", false},
			{"pub", "a/b", "", "clients/a/b/x", false}, // would reach into client a's tree
			{"pub", "", "", "clients//x", false},
			{"pub", "c", "#", "#/data", false},
			{"pub", "c", "+", "anything/data", false},
			{"sub", "c", "+", "+/data", true}, // c/data, through %c/#
			{"read", "c", "+", "x/data", false},
			{"read", "c", "#", "x/data", false},
			{"pub", "c", "a\x00b", "a\x00b/data", false},
			{"pub", "$SYS", "", "$SYS/broker/uptime", false}, // %c must not open $SYS
			{"sub", "$SYS", "", "$SYS/#", false},
			{"pub", "c1", "", "c1/x", true},
			{"pub", "c1", "bob", "bob/data", true},
		}},
		{"examples/pi.yaml: a deny inside a wider read", []Rule{
			{"homeassistant", "sensors/#", ReadWrite},
			{"app", "sensors/relay/set", Deny},
			{"app", "sensors/#", Read},
			{"", "clients/%c/#", ReadWrite},
		}, []check{
			{"sub", "c", "app", "sensors/#", true},
			{"sub", "c", "app", "sensors/+/set", true},
			{"sub", "c", "app", "sensors/relay/set", false},
			{"read", "c", "app", "sensors/relay/set", false},
			{"read", "c", "app", "sensors/relay/state", true},
			{"read", "c", "app", "sensors/kitchen/temperature", true},
			{"sub", "c", "app", "#", true},
			{"read", "c", "app", "other", false},
			{"read", "c", "homeassistant", "sensors/relay/set", true},
			{"read", "c", "app", "clients/c/x", true},
			{"read", "c", "app", "clients/d/x", false},
		}},
		{"one deny rule", []Rule{{"", "secret", Deny}, {"", "#", ReadWrite}}, []check{
			{"sub", "c", "", "#", true},
			{"sub", "c", "", "secret", false},
			{"sub", "c", "", "secret/#", true}, // secret/x is readable
			{"read", "c", "", "secret", false},
			{"read", "c", "", "secret/x", true},
		}},
		{"username scoping", []Rule{{"app", "#", ReadWrite}}, []check{
			{"pub", "c", "app", "x", true},
			{"pub", "c", "", "x", false},
			{"pub", "c", "app2", "x", false},
			{"pub", "c", "App", "x", false},
		}},
		{"$ topics", []Rule{
			{"", "$SYS/#", Read},
			{"", "#", ReadWrite},
		}, []check{
			{"sub", "c", "", "$SYS/broker/+", true},
			{"pub", "c", "", "$SYS/broker/uptime", false},
			{"sub", "c", "", "#", true},
			{"pub", "c", "", "$other", false}, // "#" does not match $-names
			{"sub", "c", "", "$other/#", false},
		}},
		{"invalid input is refused", []Rule{{"", "#", ReadWrite}}, []check{
			{"pub", "c", "", "a/+", false},
			{"pub", "c", "", "", false},
			{"sub", "c", "", "a/#/b", false},
			{"sub", "c", "", "", false},
			{"pub", "c", "", "a/b", true},
		}},
		{"literal percent", []Rule{{"", "rate/%/x%", ReadWrite}}, []check{
			{"pub", "c", "", "rate/%/x%", true},
			{"pub", "c", "", "rate/c/xc", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runChecks(t, tt.rules, tt.checks) })
	}
}

// TestOverlaps_Exhaustive checks overlaps against its definition: some name
// matches both filters. Names are enumerated over the filters' literals,
// fresh ones, and one level deeper than the filters.
func TestOverlaps_Exhaustive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := []string{"a", "b", "", "$s"}
	names := allNames(append(alphabet, "z", "$z"), 4)
	var yes int
	for range 3000 {
		f, g := randomFilter(r, alphabet, 3), randomFilter(r, alphabet, 3)
		want := false
		for _, n := range names {
			if topic.Match(f, n) && topic.Match(g, n) {
				want = true
				break
			}
		}
		if got := overlaps(f, g); got != want {
			t.Fatalf("overlaps(%q, %q) = %v, want %v", f, g, got, want)
		}
		if overlaps(g, f) != want {
			t.Fatalf("overlaps(%q, %q) not symmetric", g, f)
		}
		if want {
			yes++
		}
	}
	if yes < 300 || yes > 2700 {
		t.Fatalf("%d of 3000 pairs overlap: the generator exercises one answer too little", yes)
	}
}

// TestAuth_CanSubscribe_Exact checks on random rule sets that a refused
// subscription matches no name the client could read (a refusal never
// hides a readable message), that an allowed one almost always matches
// one, and that CanRead agrees with first-match on every name.
func TestAuth_CanSubscribe_Exact(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	alphabet := []string{"a", "b", "", "$s"}
	names := allNames(append(alphabet, "z", "$z"), 4)
	accesses := []Access{Read, Write, ReadWrite, Deny}
	var allowed, refused, empty int
	for range 500 {
		rules := make([]Rule, 1+r.IntN(4))
		for i := range rules {
			rules[i] = Rule{Topic: randomFilter(r, alphabet, 3), Access: accesses[r.IntN(4)]}
		}
		a := mustNew(t, true, nil, rules)
		for _, n := range names {
			if a.CanRead("c", "", n) != readable(rules, n) {
				t.Fatalf("rules %v: CanRead(%q) = %v", rules, n, !readable(rules, n))
			}
		}
		for range 20 {
			f := randomFilter(r, alphabet, 3)
			some := false
			for _, n := range names {
				if topic.Match(f, n) && readable(rules, n) {
					some = true
					break
				}
			}
			switch got := a.CanSubscribe("c", "", f); {
			case got && !some:
				empty++
				allowed++
			case got:
				allowed++
			case some:
				t.Fatalf("rules %v refuse subscribing to %q, which could deliver a readable name", rules, f)
			default:
				refused++
			}
		}
	}
	if allowed < 500 || refused < 500 {
		t.Fatalf("%d subscriptions allowed, %d refused: the test exercises one answer too little", allowed, refused)
	}
	if empty*100 > allowed {
		t.Fatalf("%d of %d allowed subscriptions can deliver nothing: over 1%%", empty, allowed)
	}
}

// TestAuth_CanReadAll_Sound checks on random rule sets that a filter
// CanReadAll accepts never matches a name the client cannot read, and that
// it accepts often enough to matter.
func TestAuth_CanReadAll_Sound(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	alphabet := []string{"a", "b", "", "$s"}
	names := allNames(append(alphabet, "z", "$z"), 4)
	accesses := []Access{Read, Write, ReadWrite, Deny}
	all := 0
	for range 500 {
		rules := make([]Rule, 1+r.IntN(4))
		for i := range rules {
			rules[i] = Rule{Topic: randomFilter(r, alphabet, 3), Access: accesses[r.IntN(4)]}
		}
		a := mustNew(t, true, nil, rules)
		for range 20 {
			f := randomFilter(r, alphabet, 3)
			if !a.CanReadAll("c", "", f) {
				continue
			}
			all++
			for _, n := range names {
				if topic.Match(f, n) && !readable(rules, n) {
					t.Fatalf("rules %v: CanReadAll(%q) but %q is not readable", rules, f, n)
				}
			}
		}
	}
	if all < 500 {
		t.Fatalf("CanReadAll true only %d times: the test exercises too little", all)
	}
}

// readable is the per-name reference: the first rule matching name decides.
func readable(rules []Rule, name string) bool {
	for _, r := range rules {
		if topic.Match(r.Topic, name) {
			return r.Access.canRead()
		}
	}
	return false
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
	levels := make([]string, 1+r.IntN(depth))
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
