//go:build !crashcontrol

package offline

// crashControlNoSync is false in every real build. The power-cut simulator's
// control run builds the gateway with -tags crashcontrol, which sets it, so
// that bbolt never fsyncs and the simulator must find lost messages.
const crashControlNoSync = false
