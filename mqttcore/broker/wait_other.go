//go:build !linux

package broker

import "net"

// readableWaiter is only implemented on Linux; elsewhere the reader blocks
// in Read with its buffer.
func readableWaiter(net.Conn) func() error { return nil }
