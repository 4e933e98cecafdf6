package main

import (
	"encoding/binary"
	"errors"
	"time"
)

// headerSize is the length of the header every benchmark payload starts
// with: run tag, publisher index, sequence number and send time.
const headerSize = 24

// errNotBench reports a payload that is not one of this run's messages.
var errNotBench = errors.New("mqttbench: payload is not a benchmark message of this run")

// epoch is the process-wide origin of send timestamps. time.Since(epoch)
// reads the monotonic clock, so publisher and subscriber (in the same
// process) agree on it and a wall-clock step cannot skew a latency.
var epoch = time.Now()

// header is the decoded start of a benchmark payload.
type header struct {
	Run  uint32 // tag of the scenario run that sent it
	Pub  uint32 // publisher index, 0-based
	Seq  uint64 // per-publisher sequence number, from 0
	Sent int64  // nanoseconds since epoch when the publisher encoded it
}

// putHeader writes h into the first headerSize bytes of b, which must be at
// least that long.
func putHeader(b []byte, h header) {
	binary.BigEndian.PutUint32(b[0:4], h.Run)
	binary.BigEndian.PutUint32(b[4:8], h.Pub)
	binary.BigEndian.PutUint64(b[8:16], h.Seq)
	binary.BigEndian.PutUint64(b[16:24], uint64(h.Sent))
}

// parseHeader decodes the header of b and checks that it belongs to run.
func parseHeader(b []byte, run uint32) (header, error) {
	if len(b) < headerSize {
		return header{}, errNotBench
	}
	h := header{
		Run:  binary.BigEndian.Uint32(b[0:4]),
		Pub:  binary.BigEndian.Uint32(b[4:8]),
		Seq:  binary.BigEndian.Uint64(b[8:16]),
		Sent: int64(binary.BigEndian.Uint64(b[16:24])),
	}
	if h.Run != run {
		return header{}, errNotBench
	}
	return h, nil
}

// now returns the current time as nanoseconds since epoch (monotonic).
func now() int64 { return int64(time.Since(epoch)) }
