package sensors

// Log messages that drivers and cmd/gateway share, so that one condition
// reads the same in every log, whichever driver it comes from.
const (
	// MsgUnavailable is logged at Warn, once per outage, when a sensor's
	// device cannot be opened or has gone away (a missing bus, an unplugged
	// adapter); the gateway keeps retrying with backoff.
	MsgUnavailable = "sensor device unavailable, retrying"
	// MsgAvailable is logged at Info when the device is back.
	MsgAvailable = "sensor device available again"
)
