package bridge

import "errors"

// Errors of Run and of the uplink. Errors from the network, TLS and the queue
// are wrapped; refusals by the upstream wrap a packet.ConnackCode.
var (
	// ErrRunning is returned by Run when the Bridge already runs or ran:
	// a Bridge runs once.
	ErrRunning = errors.New("bridge: already running")

	// ErrKeepAlive means the upstream sent nothing, not even a PINGRESP,
	// for one keepalive period: the link is dead or blackholed. The bridge
	// drops the connection and reconnects.
	ErrKeepAlive = errors.New("bridge: keepalive timeout: upstream silent")

	// ErrUnexpected means the upstream sent a packet a server must not
	// send to a client (e.g. a second CONNACK); the connection is dropped
	// [MQTT-4.8.0-1].
	ErrUnexpected = errors.New("bridge: unexpected packet from upstream")

	// ErrInvalidOptions is wrapped by every error New returns for bad
	// Options.
	ErrInvalidOptions = errors.New("bridge: invalid options")
)

// errDisconnected ends a connection after the DISCONNECT was written.
var errDisconnected = errors.New("bridge: disconnected")
