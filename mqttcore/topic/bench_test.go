package topic

import (
	"fmt"
	"testing"
)

// benchTrie returns a trie with n subscribers shaped like a gateway's: one
// exact filter per device quantity, a '+' filter per device, a few
// dashboards with '#', and some unrelated command topics.
func benchTrie(n int) *Trie[int] {
	tr := NewTrie[int]()
	for i := range n {
		var f string
		switch i % 10 {
		case 0, 1, 2, 3, 4:
			f = fmt.Sprintf("sensors/dev%d/temperature", i%100)
		case 5, 6:
			f = fmt.Sprintf("sensors/dev%d/+", i%100)
		case 7:
			f = fmt.Sprintf("sensors/+/q%d", i%50)
		case 8:
			f = fmt.Sprintf("cmd/dev%d/#", i%100)
		default:
			if i%100 == 9 {
				f = "sensors/#"
			} else {
				f = fmt.Sprintf("other/%d", i)
			}
		}
		tr.Subscribe(f, i, byte(i%3))
	}
	return tr
}

func BenchmarkTrie_Match(b *testing.B) {
	tr := benchTrie(1000)
	var visits int
	visit := func(int, byte) { visits++ }
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tr.Match("sensors/dev7/temperature", visit)
	}
	b.ReportMetric(float64(visits)/float64(b.N), "visits/op")
}

func BenchmarkTrie_Match_Parallel(b *testing.B) {
	tr := benchTrie(1000)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		visit := func(int, byte) { n++ }
		for pb.Next() {
			tr.Match("sensors/dev7/temperature", visit)
		}
	})
}

func BenchmarkStore_MatchFilter(b *testing.B) {
	s := NewStore[int]()
	for i := range 10000 {
		s.Set(fmt.Sprintf("sensors/dev%d/q%d", i/10, i%10), i)
	}
	for _, filter := range []string{"sensors/dev42/+", "sensors/+/q3", "sensors/dev42/#"} {
		b.Run(filter, func(b *testing.B) {
			var visits int
			visit := func(string, int) { visits++ }
			b.ReportAllocs()
			for b.Loop() {
				s.MatchFilter(filter, visit)
			}
			b.ReportMetric(float64(visits)/float64(b.N), "visits/op")
		})
	}
}
