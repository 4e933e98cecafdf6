// Package topic implements MQTT 3.1.1 topic names and topic filters
// (section 4.7 of the OASIS standard): validation, matching, and the two
// concurrent trees the broker keeps, the subscription [Trie] and the
// retained-message [Store].
//
// # Names and filters
//
// A topic name is what a PUBLISH carries; a topic filter is what a SUBSCRIBE
// carries. Both are split into levels by '/'. Leading and trailing
// separators create empty levels, so "/a", "a" and "a/" are three distinct
// topics. A filter may use two wildcards, each of which must occupy a whole
// level. The single-level wildcard '+' matches exactly one level, which may
// be empty: "a/+" matches "a/" but not "a". The multi-level wildcard '#'
// must be the last level; it matches the parent level and any number of
// levels below it: "a/#" matches "a", "a/b" and "a/b/c".
//
// Names beginning with '$' (such as "$SYS/broker/uptime") are reserved for
// the server: a filter whose first level is a wildcard never matches them
// [MQTT-4.7.2-1], while a filter that names the '$' level, such as "$SYS/#",
// does.
//
// [ValidateName] and [ValidateFilter] check the rules; [Match] and the trees
// assume their input passed them, and for input that did not they return
// unspecified results, never a panic.
//
// # Filter relations
//
// [Covers] decides whether one filter is at least as wide as another. The
// ACL uses it on SUBSCRIBE: a rule for "sensors/#" covers a subscription to
// "sensors/+/temp" but not one to "#".
//
// # Trees
//
// [Trie] maps filters to subscribers and answers "who receives a PUBLISH to
// this name" without scanning every subscription and without allocating.
// [Store] maps names to retained messages and answers "which retained
// messages does this new subscription receive" by walking only the branches
// the filter can match. Both are safe for concurrent use; their lookups take
// only a read lock, so lookups run in parallel.
package topic
