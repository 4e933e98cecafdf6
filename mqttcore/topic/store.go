package topic

import (
	"strings"
	"sync"
)

// Store holds retained messages (or anything else of type V) by topic name,
// in a tree of levels, so that [Store.MatchFilter] walks only the branches a
// filter can match instead of scanning every entry. It is safe for
// concurrent use; MatchFilter takes only the read lock.
//
// The zero value is not usable; create a Store with [NewStore].
type Store[V any] struct {
	mu   sync.RWMutex
	root *storeNode[V]
	n    int
}

// NewStore returns an empty store.
func NewStore[V any]() *Store[V] {
	return &Store[V]{root: new(storeNode[V])}
}

// Set stores v under the topic name, replacing any previous value. name
// must be a valid topic name (see [ValidateName]).
func (s *Store[V]) Set(name string, v V) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.root
	for level := range levels(name) {
		n = n.child(level)
	}
	if !n.has {
		s.n++
	}
	n.name, n.v, n.has = name, v, true
}

// Delete removes the value stored under the topic name, if any, and prunes
// the branches left empty.
func (s *Store[V]) Delete(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if removed, _ := s.root.remove(name); removed {
		s.n--
	}
}

// MatchFilter calls visit with every stored name that matches filter, and
// its value, in unspecified order. Filters starting with a wildcard skip
// names beginning with '$' [MQTT-4.7.2-1]. filter must be a valid filter
// (see [ValidateFilter]).
//
// visit runs under the store's read lock: it must not call Set or Delete on
// the same store.
func (s *Store[V]) MatchFilter(filter string, visit func(name string, v V)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.root.walk(filter, true, visit)
}

// Get returns the value stored under the topic name and whether there is
// one. It does not allocate.
func (s *Store[V]) Get(name string) (V, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := s.root
	for level := range levels(name) {
		if n = n.children[level]; n == nil {
			var zero V
			return zero, false
		}
	}
	return n.v, n.has
}

// Len returns the number of stored names.
func (s *Store[V]) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n
}

//

// storeNode is one level of the store's tree.
type storeNode[V any] struct {
	children map[string]*storeNode[V]
	name     string // the full topic name, kept so MatchFilter need not build it
	v        V
	has      bool // a value is stored at this node
}

// child returns the child for level, creating it.
func (n *storeNode[V]) child(level string) *storeNode[V] {
	c := n.children[level]
	if c == nil {
		if n.children == nil {
			n.children = make(map[string]*storeNode[V])
		}
		c = new(storeNode[V])
		n.children[level] = c
	}
	return c
}

// remove deletes the value at the node the levels of name lead to, pruning
// empty children on the way back. It reports whether a value was removed
// and whether n is now empty.
func (n *storeNode[V]) remove(name string) (removed, empty bool) {
	level, rest, more := strings.Cut(name, "/")
	c := n.children[level]
	if c == nil {
		return false, false
	}
	if more {
		removed, _ = c.remove(rest)
	} else if c.has {
		var zero V
		c.name, c.v, c.has, removed = "", zero, false, true
	}
	if !c.has && len(c.children) == 0 {
		delete(n.children, level)
	}
	return removed, !n.has && len(n.children) == 0
}

// walk visits the values below n that the filter's remaining levels match.
// atRoot says n is the root, where wildcards skip '$' levels [MQTT-4.7.2-1].
func (n *storeNode[V]) walk(filter string, atRoot bool, visit func(string, V)) {
	level, rest, more := strings.Cut(filter, "/")
	switch level {
	case "#":
		n.visitIf(visit) // '#' matches the parent level: "a/#" matches "a"
		for key, c := range n.children {
			if !atRoot || !isDollar(key) {
				c.all(visit)
			}
		}
	case "+":
		for key, c := range n.children {
			if !atRoot || !isDollar(key) {
				c.step(rest, more, visit)
			}
		}
	default:
		if c := n.children[level]; c != nil {
			c.step(rest, more, visit)
		}
	}
}

// step continues a walk at n, the node a filter level just matched.
func (n *storeNode[V]) step(rest string, more bool, visit func(string, V)) {
	if more {
		n.walk(rest, false, visit)
	} else {
		n.visitIf(visit)
	}
}

// all visits n and every value below it.
func (n *storeNode[V]) all(visit func(string, V)) {
	n.visitIf(visit)
	for _, c := range n.children {
		c.all(visit)
	}
}

// visitIf calls visit if n holds a value.
func (n *storeNode[V]) visitIf(visit func(string, V)) {
	if n.has {
		visit(n.name, n.v)
	}
}
