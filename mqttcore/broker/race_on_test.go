//go:build race

package broker

// raceEnabled reports a -race build, whose memory figures mean nothing.
const raceEnabled = true
