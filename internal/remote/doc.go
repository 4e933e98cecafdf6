// Package remote is the wire protocol of remote configuration and remote
// commands: what an operator publishes on the upstream broker under the
// gateway's monitor prefix, and what the gateway answers. It holds no
// gateway logic: cmd/gateway receives the requests through the bridge,
// acts, and answers with the types here.
//
// Topics, relative to monitor.topic_prefix (see Topics):
//
//	config/set          → config/result      a new configuration (ConfigSet)
//	config/get          → config/get/result  the configuration in force, secrets redacted
//	cmd/<name>          → cmd/<name>/result  a command (Command, CommandResult)
//
// Every request is a JSON object with a request "id" (1 to MaxIDLength
// bytes), echoed in every answer; a request repeated with the same id on
// the same topic (an upstream redelivery, an overlapping subscription) is
// answered once (Recent).
//
// A configuration document is YAML (or JSON, which is YAML) and is signed,
// when the gateway has remote.config_public_key, with ed25519 over
// SignedMessage: its sequence number and the document's exact bytes (the
// "config" string's UTF-8 bytes, or the raw bytes of the "config" object as
// they stand in the envelope); see Verify. The sequence must grow: Sequence
// keeps the last accepted one in data_dir, so that a captured signed
// document cannot be replayed, even across restarts.
package remote
