package topic

// subscribers is the set of subscribers of one filter with their QoS. It
// keeps them in a slice, so that Match iterates without hashing, and adds a
// map index once the set is large enough for linear search to cost more.
type subscribers[K comparable] struct {
	list  []subscriber[K]
	index map[K]int // position in list; nil while len(list) < indexAt
}

// subscriber is one subscription: who, and the QoS granted.
type subscriber[K comparable] struct {
	k   K
	qos byte
}

// indexAt is the set size from which subscribers keeps a map index.
const indexAt = 16

// put sets k's QoS and reports whether k was not in the set before.
func (s *subscribers[K]) put(k K, qos byte) (isNew bool) {
	if i := s.find(k); i >= 0 {
		s.list[i].qos = qos
		return false
	}
	s.list = append(s.list, subscriber[K]{k, qos})
	switch {
	case s.index != nil:
		s.index[k] = len(s.list) - 1
	case len(s.list) >= indexAt:
		s.index = make(map[K]int, len(s.list))
		for i, e := range s.list {
			s.index[e.k] = i
		}
	}
	return true
}

// delete removes k and reports whether it was in the set. The last element
// takes k's place, so the order of the set is not stable.
func (s *subscribers[K]) delete(k K) bool {
	i := s.find(k)
	if i < 0 {
		return false
	}
	last := len(s.list) - 1
	s.list[i] = s.list[last]
	s.list[last] = subscriber[K]{} // drop the reference for the GC
	s.list = s.list[:last]
	if s.index != nil {
		delete(s.index, k)
		if i < last {
			s.index[s.list[i].k] = i
		}
		if len(s.list) < indexAt/2 {
			s.index = nil
		}
	}
	if len(s.list) == 0 {
		s.list = nil
	}
	return true
}

// find returns k's position in list, or -1.
func (s *subscribers[K]) find(k K) int {
	if s.index != nil {
		if i, ok := s.index[k]; ok {
			return i
		}
		return -1
	}
	for i := range s.list {
		if s.list[i].k == k {
			return i
		}
	}
	return -1
}

// len returns the number of subscribers.
func (s *subscribers[K]) len() int { return len(s.list) }

// each calls visit for every subscriber.
func (s *subscribers[K]) each(visit func(K, byte)) {
	for _, e := range s.list {
		visit(e.k, e.qos)
	}
}
