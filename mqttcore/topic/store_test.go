package topic

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// collectStore returns the sorted names MatchFilter visits, checking each
// value is the one stored.
func collectStore(t *testing.T, s *Store[string], filter string) []string {
	t.Helper()
	var got []string
	s.MatchFilter(filter, func(name, v string) {
		if v != "v:"+name {
			t.Errorf("value for %q = %q", name, v)
		}
		got = append(got, name)
	})
	slices.Sort(got)
	return got
}

func TestStore_MatchFilter(t *testing.T) {
	s := NewStore[string]()
	for _, n := range []string{
		"sport", "sport/", "sport/tennis/player1", "sport/tennis/player1/ranking",
		"sport/tennis/player2", "/finance", "finance", "$SYS/broker/uptime", "$SYS",
		"a/$b",
	} {
		s.Set(n, "v:"+n)
	}
	tests := []struct {
		filter string
		want   []string
	}{
		{"sport/tennis/player1/#", []string{"sport/tennis/player1", "sport/tennis/player1/ranking"}},
		{"sport/#", []string{"sport", "sport/", "sport/tennis/player1", "sport/tennis/player1/ranking", "sport/tennis/player2"}},
		{"sport/+", []string{"sport/"}},
		{"sport/tennis/+", []string{"sport/tennis/player1", "sport/tennis/player2"}},
		{"+/+", []string{"/finance", "a/$b", "sport/"}},
		{"/+", []string{"/finance"}},
		{"+", []string{"finance", "sport"}},
		{"#", []string{"/finance", "a/$b", "finance", "sport", "sport/", "sport/tennis/player1", "sport/tennis/player1/ranking", "sport/tennis/player2"}},
		{"$SYS/#", []string{"$SYS", "$SYS/broker/uptime"}},
		{"+/broker/uptime", nil},
		{"$SYS/+/uptime", []string{"$SYS/broker/uptime"}},
		{"sport/tennis/player1", []string{"sport/tennis/player1"}},
		{"sport/tennis", nil},
		{"nothing/#", nil},
	}
	for _, tt := range tests {
		if got := collectStore(t, s, tt.filter); !slices.Equal(got, tt.want) {
			t.Errorf("MatchFilter(%q) = %q, want %q", tt.filter, got, tt.want)
		}
	}
}

func TestStore_SetDelete(t *testing.T) {
	s := NewStore[string]()
	s.Set("a/b", "v:a/b")
	s.Set("a/b", "v:a/b") // replace: still one
	s.Set("a", "v:a")
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want 2", s.Len())
	}
	s.Delete("a/b/c") // absent: no effect
	s.Delete("a")
	if s.Len() != 1 {
		t.Fatalf("Len = %d after Delete(a), want 1", s.Len())
	}
	if got := collectStore(t, s, "#"); !slices.Equal(got, []string{"a/b"}) {
		t.Fatalf("MatchFilter(#) = %q", got)
	}
	s.Delete("a/b")
	s.Delete("a/b")
	if s.Len() != 0 || len(s.root.children) != 0 {
		t.Fatalf("Len = %d, root children = %d after deleting everything", s.Len(), len(s.root.children))
	}
}

// TestStore_MatchFilter_AgreesWithMatch checks MatchFilter against looping
// Match over every stored name, with random names, deletions and filters.
func TestStore_MatchFilter_AgreesWithMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"a", "b", "c", "", "$SYS", "x y"}
	for round := range 20 {
		s := NewStore[string]()
		ref := map[string]bool{}
		for range 200 {
			n := randomName(r, alphabet, 5)
			if r.IntN(4) == 0 {
				s.Delete(n)
				delete(ref, n)
			} else {
				s.Set(n, "v:"+n)
				ref[n] = true
			}
		}
		if s.Len() != len(ref) {
			t.Fatalf("round %d: Len = %d, want %d", round, s.Len(), len(ref))
		}
		for range 300 {
			f := randomFilter(r, alphabet, 5)
			var want []string
			for n := range ref {
				if Match(f, n) {
					want = append(want, n)
				}
			}
			slices.Sort(want)
			if got := collectStore(t, s, f); !slices.Equal(got, want) {
				t.Fatalf("round %d: MatchFilter(%q) = %q, want %q", round, f, got, want)
			}
		}
	}
}

// TestStore_Concurrent runs writers and readers at once under -race.
func TestStore_Concurrent(t *testing.T) {
	s := NewStore[string]()
	s.Set("keep/me", "v:keep/me")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				n := fmt.Sprintf("w%d/%d", w, i%40)
				if i%2 == 0 {
					s.Set(n, "v:"+n)
				} else {
					s.Delete(n)
				}
			}
		})
	}
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for range 500 {
				found := false
				s.MatchFilter("#", func(name, v string) {
					if name == "keep/me" {
						found = true
					}
				})
				if !found {
					errs <- fmt.Errorf("MatchFilter(#) missed keep/me")
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
	if got := len(collectStore(t, s, "#")); got != s.Len() {
		t.Fatalf("MatchFilter(#) visits %d, Len = %d", got, s.Len())
	}
}

func TestStore_Get(t *testing.T) {
	s := NewStore[int]()
	s.Set("a/b", 1)
	s.Set("a", 2)
	for name, want := range map[string]int{"a/b": 1, "a": 2, "a/b/c": 0, "b": 0, "a/": 0} {
		got, ok := s.Get(name)
		if got != want || ok != (want != 0) {
			t.Errorf("Get(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	s.Delete("a/b")
	if _, ok := s.Get("a/b"); ok {
		t.Error("Get after Delete found the value")
	}
}
