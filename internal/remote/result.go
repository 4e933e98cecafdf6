package remote

import "time"

// States of a configuration change, in ConfigResult.State.
const (
	// StateAccepted: the document passed every check; it is being written
	// and applied.
	StateAccepted = "accepted"
	// StateRejected: the document (or the request) was refused; Errors
	// says why, as `gateway check` would ("file:line: key: message").
	StateRejected = "rejected"
	// StateApplied: the new file is in force (for a bridge change, the
	// uplink came back with it).
	StateApplied = "applied"
	// StateRolledBack: a bridge change did not bring the uplink back in
	// time; the last configuration with a working uplink was restored.
	StateRolledBack = "rolled_back"
	// StateFailed: writing or applying failed; the old file stays.
	StateFailed = "failed"
)

// ConfigResult is the payload of config/result.
type ConfigResult struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Errors are the reasons of a rejection, rollback or failure.
	Errors []string `json:"errors,omitempty"`
	// Restart lists the changed sections that apply only after a restart.
	Restart []string `json:"restart_needed,omitempty"`
	// TS is when the gateway published the result (RFC 3339, UTC).
	TS string `json:"ts"`
}

// CommandResult is the payload of cmd/<name>/result and config/get/result.
type CommandResult struct {
	ID      string `json:"id"`
	Command string `json:"command"`
	OK      bool   `json:"ok"`
	// Error says why the command failed (OK false).
	Error string `json:"error,omitempty"`
	// Result is the command's answer (OK true).
	Result any    `json:"result,omitempty"`
	TS     string `json:"ts"`
}

// Stamp formats t as results carry it.
func Stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }
