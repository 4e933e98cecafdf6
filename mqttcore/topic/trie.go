package topic

import (
	"strings"
	"sync"
)

// Trie is the broker's subscription table: it maps topic filters to
// subscribers of type K (typically a session pointer or client id) with the
// QoS each subscriber asked for. It is safe for concurrent use. [Trie.Match]
// takes only the read lock and does not allocate, so publishes fan out in
// parallel; [Trie.Subscribe] and [Trie.Unsubscribe] take the write lock.
//
// A subscriber may hold several overlapping filters. Match reports each
// matching (filter, subscriber) pair, so such a subscriber is visited once
// per matching filter, each time with that subscription's QoS. The caller
// delivers one copy at the maximum of those QoS values [MQTT-3.3.5-1].
//
// The zero value is not usable; create a Trie with [NewTrie].
type Trie[K comparable] struct {
	mu   sync.RWMutex
	root *trieNode[K]
	n    int // (filter, subscriber) pairs
}

// NewTrie returns an empty subscription trie.
func NewTrie[K comparable]() *Trie[K] {
	return &Trie[K]{root: new(trieNode[K])}
}

// Subscribe records that subscriber k subscribed to filter with the given
// QoS. It reports whether the pair is new; subscribing again with the same
// filter and k replaces the QoS and returns false [MQTT-3.8.4-3]. filter
// must be a valid filter (see [ValidateFilter]).
func (t *Trie[K]) Subscribe(filter string, k K, qos byte) (isNew bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.root
	for level := range levels(filter) {
		n = n.child(level)
	}
	isNew = n.subs.put(k, qos)
	if isNew {
		t.n++
	}
	return isNew
}

// Unsubscribe removes subscriber k's subscription to filter and reports
// whether there was one. Branches left without subscribers are pruned, so
// the trie does not grow with filters that are no longer used.
func (t *Trie[K]) Unsubscribe(filter string, k K) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	removed, _ := t.root.remove(filter, true, k)
	if removed {
		t.n--
	}
	return removed
}

// Match calls visit for every (filter, subscriber) pair whose filter matches
// the topic name, with that subscription's QoS; see the [Trie] doc for
// subscribers with overlapping filters. Filters starting with a wildcard do
// not match names beginning with '$' [MQTT-4.7.2-1]. The visiting order is
// unspecified.
//
// visit runs under the trie's read lock: it must not call Subscribe or
// Unsubscribe on the same trie, and should be quick (queue the message,
// do not write to a socket).
func (t *Trie[K]) Match(name string, visit func(k K, qos byte)) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	t.root.match(name, false, isDollar(name), visit)
}

// Len returns the number of (filter, subscriber) pairs.
func (t *Trie[K]) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.n
}

//

// trieNode is one level of the trie. The node reached by following a
// filter's levels from the root holds that filter's subscribers.
type trieNode[K comparable] struct {
	literal map[string]*trieNode[K] // children by literal level
	plus    *trieNode[K]            // child for a '+' level
	hash    *trieNode[K]            // child for a '#' level (a leaf)
	subs    subscribers[K]
}

// child returns the child for level, creating it.
func (n *trieNode[K]) child(level string) *trieNode[K] {
	switch level {
	case "+":
		if n.plus == nil {
			n.plus = new(trieNode[K])
		}
		return n.plus
	case "#":
		if n.hash == nil {
			n.hash = new(trieNode[K])
		}
		return n.hash
	}
	c := n.literal[level]
	if c == nil {
		if n.literal == nil {
			n.literal = make(map[string]*trieNode[K])
		}
		c = new(trieNode[K])
		n.literal[level] = c
	}
	return c
}

// remove deletes k from the node that filter leads to, where filter holds
// the levels below n and more says whether there are any. It reports whether
// k was removed and whether n is now empty, so the parent can prune it.
func (n *trieNode[K]) remove(filter string, more bool, k K) (removed, empty bool) {
	if !more {
		removed = n.subs.delete(k)
		return removed, n.empty()
	}
	level, rest, restMore := strings.Cut(filter, "/")
	var c *trieNode[K]
	switch level {
	case "+":
		c = n.plus
	case "#":
		c = n.hash
	default:
		c = n.literal[level]
	}
	if c == nil {
		return false, false
	}
	removed, cEmpty := c.remove(rest, restMore, k)
	if cEmpty {
		switch level {
		case "+":
			n.plus = nil
		case "#":
			n.hash = nil
		default:
			delete(n.literal, level)
		}
	}
	return removed, n.empty()
}

// empty reports whether n has neither subscribers nor children.
func (n *trieNode[K]) empty() bool {
	return n.subs.len() == 0 && n.plus == nil && n.hash == nil && len(n.literal) == 0
}

// match visits the subscribers of every filter below n that matches the
// remaining name. atEnd says the name has no levels left; dollar says the
// whole name begins with '$' and n is the root, where wildcards must not
// match [MQTT-4.7.2-1].
func (n *trieNode[K]) match(name string, atEnd, dollar bool, visit func(K, byte)) {
	if n.hash != nil && !dollar { // '#' matches the parent level too: "a/#" matches "a"
		n.hash.subs.each(visit)
	}
	if atEnd {
		n.subs.each(visit)
		return
	}
	level, rest, more := strings.Cut(name, "/")
	if c := n.literal[level]; c != nil {
		c.match(rest, !more, false, visit)
	}
	if n.plus != nil && !dollar {
		n.plus.match(rest, !more, false, visit)
	}
}

// levels yields the '/'-separated levels of s, including empty ones.
func levels(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for {
			level, rest, more := strings.Cut(s, "/")
			if !yield(level) || !more {
				return
			}
			s = rest
		}
	}
}
