package session

// fifo is a queue of entries backed by a slice that is compacted as it
// drains, so a long-lived session does not keep a large array once its
// backlog is gone.
type fifo struct {
	items []entry
	head  int
}

func (q *fifo) len() int { return len(q.items) - q.head }

func (q *fifo) push(e entry) { q.items = append(q.items, e) }

// peek returns the oldest entry; the queue must not be empty.
func (q *fifo) peek() *entry { return &q.items[q.head] }

// pop removes the oldest entry; the queue must not be empty.
func (q *fifo) pop() {
	q.items[q.head] = entry{}
	q.head++
	switch {
	case q.head == len(q.items):
		if cap(q.items) > 64 {
			q.items = nil
		} else {
			q.items = q.items[:0]
		}
		q.head = 0
	case q.head >= 64 && q.head*2 >= len(q.items):
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}
}

// each calls fn for every entry, oldest first.
func (q *fifo) each(fn func(e *entry)) {
	for i := q.head; i < len(q.items); i++ {
		fn(&q.items[i])
	}
}
