package bridge

// Forwards reports whether a local message on topic goes upstream: an out
// (or both) rule in force matches it.
func (b *Bridge) Forwards(topic string) bool {
	_, _, ok := matchOut(*b.rules.Load(), topic)
	return ok
}
