package topic

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// pair is one (subscriber, QoS) visit.
type pair struct {
	k   string
	qos byte
}

// collect returns the sorted visits of tr.Match(name).
func collect(tr *Trie[string], name string) []pair {
	var got []pair
	tr.Match(name, func(k string, qos byte) { got = append(got, pair{k, qos}) })
	slices.SortFunc(got, comparePairs)
	return got
}

func comparePairs(a, b pair) int {
	if a.k != b.k {
		if a.k < b.k {
			return -1
		}
		return 1
	}
	return int(a.qos) - int(b.qos)
}

func TestTrie_Subscribe_ReplacesQoS(t *testing.T) {
	tr := NewTrie[string]()
	if !tr.Subscribe("a/+", "c1", 0) {
		t.Fatal("first Subscribe: isNew = false")
	}
	if tr.Subscribe("a/+", "c1", 2) {
		t.Fatal("second Subscribe of the same (filter, k): isNew = true")
	}
	if tr.Len() != 1 {
		t.Fatalf("Len = %d, want 1", tr.Len())
	}
	if got, want := collect(tr, "a/b"), []pair{{"c1", 2}}; !slices.Equal(got, want) {
		t.Fatalf("Match = %v, want %v (QoS replaced)", got, want)
	}
}

func TestTrie_Match_OverlappingFiltersVisitedPerFilter(t *testing.T) {
	tr := NewTrie[string]()
	tr.Subscribe("sensors/#", "c1", 0)
	tr.Subscribe("sensors/+/temp", "c1", 1)
	tr.Subscribe("sensors/kitchen/temp", "c1", 2)
	tr.Subscribe("sensors/kitchen/temp", "c2", 1)
	tr.Subscribe("other/#", "c3", 2)
	got := collect(tr, "sensors/kitchen/temp")
	want := []pair{{"c1", 0}, {"c1", 1}, {"c1", 2}, {"c2", 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("Match = %v, want %v", got, want)
	}
}

func TestTrie_Match_Dollar(t *testing.T) {
	tr := NewTrie[string]()
	tr.Subscribe("#", "all", 0)
	tr.Subscribe("+/monitor/Clients", "plus", 0)
	tr.Subscribe("$SYS/#", "sys", 0)
	tr.Subscribe("$SYS/monitor/+", "sysplus", 0)
	got := collect(tr, "$SYS/monitor/Clients")
	if want := []pair{{"sys", 0}, {"sysplus", 0}}; !slices.Equal(got, want) {
		t.Fatalf("Match($SYS/monitor/Clients) = %v, want %v [MQTT-4.7.2-1]", got, want)
	}
	got = collect(tr, "x/monitor/Clients")
	if want := []pair{{"all", 0}, {"plus", 0}}; !slices.Equal(got, want) {
		t.Fatalf("Match(x/monitor/Clients) = %v, want %v", got, want)
	}
}

func TestTrie_Unsubscribe_Prunes(t *testing.T) {
	tr := NewTrie[string]()
	filters := []string{"a/b/c", "a/+/c", "a/#", "#", "+", "/", "a//b", "+/+/#"}
	for _, f := range filters {
		tr.Subscribe(f, "c1", 1)
		tr.Subscribe(f, "c2", 1)
	}
	if tr.Unsubscribe("a/b", "c1") || tr.Unsubscribe("a/b/c", "c3") {
		t.Fatal("Unsubscribe of a missing subscription returned true")
	}
	for _, f := range filters {
		if !tr.Unsubscribe(f, "c1") {
			t.Fatalf("Unsubscribe(%q, c1) = false", f)
		}
		if tr.Unsubscribe(f, "c1") {
			t.Fatalf("second Unsubscribe(%q, c1) = true", f)
		}
	}
	if got := collect(tr, "a/b/c"); !slices.Equal(got, []pair{{"c2", 1}, {"c2", 1}, {"c2", 1}, {"c2", 1}, {"c2", 1}}) {
		t.Fatalf("after removing c1: Match = %v", got)
	}
	for _, f := range filters {
		tr.Unsubscribe(f, "c2")
	}
	if tr.Len() != 0 {
		t.Fatalf("Len = %d after removing everything", tr.Len())
	}
	if !tr.root.empty() {
		t.Fatalf("root not pruned: %+v", tr.root)
	}
}

func TestTrie_ManySubscribersOneFilter(t *testing.T) {
	// Crosses the size at which a filter's subscriber set builds its index,
	// and back.
	tr := NewTrie[int]()
	const n = 100
	for i := range n {
		if !tr.Subscribe("a/#", i, byte(i%3)) {
			t.Fatalf("Subscribe(%d) not new", i)
		}
	}
	for i := range n {
		if tr.Subscribe("a/#", i, 2) {
			t.Fatalf("re-Subscribe(%d) new", i)
		}
	}
	for i := 0; i < n; i += 2 {
		if !tr.Unsubscribe("a/#", i) {
			t.Fatalf("Unsubscribe(%d) = false", i)
		}
	}
	seen := map[int]byte{}
	tr.Match("a/b", func(k int, qos byte) { seen[k] = qos })
	if len(seen) != n/2 {
		t.Fatalf("Match visited %d subscribers, want %d", len(seen), n/2)
	}
	for k, qos := range seen {
		if k%2 == 0 || qos != 2 {
			t.Fatalf("visited %d with QoS %d", k, qos)
		}
	}
	for i := 1; i < n; i += 2 {
		if !tr.Unsubscribe("a/#", i) {
			t.Fatalf("Unsubscribe(%d) = false", i)
		}
	}
	if tr.Len() != 0 || !tr.root.empty() {
		t.Fatalf("Len = %d, root empty = %v", tr.Len(), tr.root.empty())
	}
}

// TestTrie_Match_AgreesWithMatch subscribes random filters, removes some,
// and checks that Trie.Match visits exactly the pairs a loop of Match over
// every remaining subscription finds.
func TestTrie_Match_AgreesWithMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "b", "c", "", "$SYS", "x y"}
	for round := range 20 {
		tr := NewTrie[string]()
		ref := map[[2]string]byte{} // (filter, k) → qos
		for range 200 {
			f := randomFilter(r, alphabet, 4)
			k := fmt.Sprintf("c%d", r.IntN(20))
			qos := byte(r.IntN(3))
			_, existed := ref[[2]string{f, k}]
			if isNew := tr.Subscribe(f, k, qos); isNew == existed {
				t.Fatalf("Subscribe(%q, %q): isNew = %v, existed = %v", f, k, isNew, existed)
			}
			ref[[2]string{f, k}] = qos
		}
		for _, key := range slices.Collect(maps.Keys(ref)) {
			if r.IntN(3) == 0 {
				if !tr.Unsubscribe(key[0], key[1]) {
					t.Fatalf("Unsubscribe(%q, %q) = false", key[0], key[1])
				}
				delete(ref, key)
			}
		}
		if tr.Len() != len(ref) {
			t.Fatalf("round %d: Len = %d, want %d", round, tr.Len(), len(ref))
		}
		for range 300 {
			name := randomName(r, alphabet, 5)
			var want []pair
			for key, qos := range ref {
				if Match(key[0], name) {
					want = append(want, pair{key[1], qos})
				}
			}
			slices.SortFunc(want, comparePairs)
			if got := collect(tr, name); !slices.Equal(got, want) {
				t.Fatalf("round %d: Trie.Match(%q) = %v, want %v", round, name, got, want)
			}
		}
	}
}

func TestTrie_Match_NoAllocation(t *testing.T) {
	tr := benchTrie(1000)
	var n int
	visit := func(int, byte) { n++ }
	allocs := testing.AllocsPerRun(200, func() {
		tr.Match("sensors/dev7/temperature", visit)
	})
	if allocs != 0 {
		t.Fatalf("Trie.Match allocates %v times per call", allocs)
	}
	if n == 0 {
		t.Fatal("Match visited nobody: the allocation check measured nothing")
	}
}

// TestTrie_Concurrent runs subscribers, unsubscribers and matchers at once;
// run it with -race. Each subscriber owns its filters, so at the end the
// trie must hold exactly what each kept.
func TestTrie_Concurrent(t *testing.T) {
	tr := NewTrie[int]()
	tr.Subscribe("sensors/#", -1, 1) // permanent: every Match must see it
	const workers, ops = 4, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for i := range ops {
				f := fmt.Sprintf("sensors/%d/+", r.IntN(50))
				if i%3 == 2 {
					tr.Unsubscribe(f, w)
				} else {
					tr.Subscribe(f, w, byte(i%3))
				}
			}
		})
	}
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for i := range ops {
				found := false
				tr.Match(fmt.Sprintf("sensors/%d/t", i%50), func(k int, _ byte) {
					if k == -1 {
						found = true
					}
				})
				if !found {
					errs <- fmt.Errorf("match %d missed the permanent subscription", i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for i := range 50 {
		tr.Match(fmt.Sprintf("sensors/%d/t", i), func(k int, _ byte) {
			if k != -1 {
				total++
			}
		})
	}
	if tr.Len() != total+1 {
		t.Fatalf("Len = %d, but Match finds %d subscriptions + 1", tr.Len(), total)
	}
}
