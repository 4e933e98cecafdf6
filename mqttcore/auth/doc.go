// Package auth decides who may connect to the local broker and which topics
// each client may publish to and subscribe to.
//
// # Authentication
//
// Users are configured with bcrypt password hashes. [Auth.Authenticate]
// turns a CONNECT's credentials into a CONNACK return code. A bcrypt check
// at cost 10 takes about 50 ms on a Raspberry Pi, so successful checks are
// cached, bounded, under a keyed hash of the username and password: a
// reconnect storm of many clients sharing credentials costs one bcrypt
// check, and concurrent checks of the same credentials share one
// computation. Failures are never cached, so every wrong password costs the
// full bcrypt time. An unknown username is checked against a dummy hash of
// the users' usual cost, so response time does not reveal which usernames
// exist (give every user the same cost to make this hold for all of them).
//
// # Access control
//
// Rules are checked in order and the first rule that matches decides. A
// rule without a username applies to every client, anonymous ones included.
// With no rules, every client may publish and subscribe to anything; with
// at least one rule, what no rule grants is refused.
//
// In a rule's topic, %c stands for the client identifier and %u for the
// username, so "clients/%c/#" gives each client its own subtree. A value
// that is empty, contains '+', '#', '/' or U+0000, or would make the topic
// begin with '$' cannot widen access: the rule does not match that client.
//
// [Auth.CanPublish] checks a topic name: the first rule whose topic matches
// it decides, and Write and ReadWrite allow. [Auth.CanSubscribe] checks a
// topic filter, which stands for many names: it is allowed when a Read or
// ReadWrite rule covers the whole filter (see topic.Covers) and no earlier
// rule that refuses reading (Write or Deny) matches any name the filter
// matches. So with the rules
//
//	{Topic: "secret/#", Access: Deny}
//	{Topic: "#", Access: ReadWrite}
//
// a subscription to "sensors/#" is allowed but one to "#" is refused, since
// it would deliver secret/ messages.
package auth
