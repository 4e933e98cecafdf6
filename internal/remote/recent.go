package remote

import "sync"

// Recent remembers the last requests seen (topic and id), so that a request
// delivered twice is acted on once. The zero value remembers nothing; use
// NewRecent.
type Recent struct {
	mu   sync.Mutex
	keys []string
	next int
	seen map[string]bool
}

// NewRecent returns a Recent remembering the last n requests.
func NewRecent(n int) *Recent {
	return &Recent{keys: make([]string, n), seen: make(map[string]bool, n)}
}

// Seen records topic and id and reports whether they were already recorded.
func (r *Recent) Seen(topic, id string) bool {
	k := topic + "\x00" + id
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.keys) == 0 {
		return false
	}
	if r.seen[k] {
		return true
	}
	delete(r.seen, r.keys[r.next])
	r.keys[r.next] = k
	r.seen[k] = true
	r.next = (r.next + 1) % len(r.keys)
	return false
}
