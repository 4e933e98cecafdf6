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
// full bcrypt time — which is why checks are throttled: at most one per
// core at once, addresses with recent failures queue behind the others
// (bounded) and wait a growing penalty on a timer before their refusal (see
// [Auth.AuthenticateFrom]). The throttle state lives in the Auth, so a
// reload starts it afresh. Passwords longer than bcrypt's 72 bytes are
// refused, not checked in part. An unknown username is checked against a dummy hash of
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
// it decides, and Write and ReadWrite allow. [Auth.CanRead] checks a name
// the same way for reading (Read and ReadWrite allow); the broker asks it
// for every message it delivers — live, retained, queued, re-sent, will —
// under the rules in force at that moment. [Auth.CanSubscribe] checks a
// topic filter, which stands for many names: as in Mosquitto, it is
// allowed when some name it matches could be readable. So with the rules
//
//	{Topic: "secret/#", Access: Deny}
//	{Topic: "#", Access: ReadWrite}
//
// subscriptions to "sensors/#" and "#" are allowed — "#" then delivers
// everything except secret/ messages — while one to "secret/#" is refused.
package auth
