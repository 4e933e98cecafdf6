//go:build !linux

package main

import "errors"

// echoOff is not implemented outside Linux: gateway passwd then reads the
// password as a line from stdin, as from a pipe.
func echoOff(int) (func(), error) { return nil, errors.New("no terminal control on this platform") }
