package bridge

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/offline"
)

// Packet identifiers. A queued message's identifier is derived from its queue
// sequence number, so it is the same after a restart: pidOf(seq) is in
// 1..pidSpace. The identifiers above pidSpace are for SUBSCRIBE and for the
// status messages (ctrlIDs).
const (
	pidSpace  = 65000
	ctrlFirst = pidSpace + 1
	ctrlLast  = 65535
)

func pidOf(seq uint64) uint16 { return uint16(seq%pidSpace) + 1 }

// flight is a queued QoS 1/2 message sent upstream and not yet acknowledged.
type flight struct {
	seq      uint64
	pid      uint16
	msg      offline.Message
	sent     bool      // sent on some connection: a re-send has DUP set
	received bool      // PUBREC seen and persisted: send PUBREL, not PUBLISH
	marking  bool      // MarkReceived in progress
	sentAt   time.Time // last (re)sent, for the acknowledgement time
	expires  time.Time // when its TTL runs out (monotonic); zero for none
}

// window is the inflight window over the queue. It outlives connections: what
// a lost connection left unacknowledged is re-sent first on the next one.
//
// At most size messages are in flight, and no two share a packet
// identifier: an entry whose pidOf collides with a flight waits for it.
//
// Lanes (Options.LiveFirst): after an outage the queue holds a backlog. So
// that messages arriving meanwhile are not stuck behind it, the window then
// reads in two lanes: the backlog (entries up to boundary, the last sequence number
// queued when the drain began) and the live lane (entries after boundary),
// which gets the first half of every read. Each lane is FIFO; once the
// backlog reaches boundary the lanes merge into one FIFO again.
type window struct {
	size int // Options.Inflight

	limit atomic.Int32 // the current connection's bound (MQTT 5.0 Receive Maximum), ≤ size

	mu       sync.Mutex
	flights  []*flight // in the order they were sent
	byPID    map[uint16]*flight
	after    uint64        // the last sequence number read from the queue (the backlog lane's)
	live     uint64        // the live lane's last sequence number read
	boundary uint64        // last entry of the backlog; 0 when there are no lanes
	freed    chan struct{} // signalled (without blocking) when a flight leaves
}

// laneMin is the backlog, in entries, from which the window reads in lanes.
const laneMin = 256

func newWindow(size int) *window {
	w := &window{
		size:  size,
		byPID: make(map[uint16]*flight, size),
		freed: make(chan struct{}, 1),
	}
	w.limit.Store(int32(size))
	return w
}

// setLimit bounds the flights to n (at most size) for the next connection.
// Flights already in the window beyond n are re-sent all the same (only an
// upstream that lowered its Receive Maximum across a reconnection sees it).
func (w *window) setLimit(n int) { w.limit.Store(int32(min(max(n, 1), w.size))) }

// capacity is the number of flights allowed now.
func (w *window) capacity() int { return int(w.limit.Load()) }

// room waits until a queue Read is worthwhile: the window is empty, or at
// least a quarter of it is free. It returns the free slots, the sequence
// number to read the backlog (or the one FIFO) after, and, when there are
// lanes, the one to read the live lane after (else 0).
func (w *window) room(ctx context.Context) (free int, after, live uint64, err error) {
	for {
		w.mu.Lock()
		size := w.capacity()
		free, after = size-len(w.flights), w.after
		if w.boundary != 0 {
			live = max(w.live, w.boundary)
		}
		w.mu.Unlock()
		if free >= max(1, size/4) { // free slots worth a queue Read
			return free, after, live, nil
		}
		select {
		case <-w.freed:
		case <-ctx.Done():
			return 0, 0, 0, ctx.Err()
		}
	}
}

// startLanes splits reading into a backlog and a live lane when the queue
// holds at least laneMin entries beyond what was read (last is the queue's
// newest sequence number). Lanes already split stay as they are.
func (w *window) startLanes(last uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.boundary == 0 && last > w.after && last-w.after >= laneMin {
		w.boundary, w.live = last, last
	}
}

// endBacklog merges the lanes: the backlog reached the live lane.
func (w *window) endBacklog() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.mergeLocked()
}

func (w *window) mergeLocked() {
	if w.boundary != 0 {
		w.after = max(w.after, w.live)
		w.boundary, w.live = 0, 0
	}
}

// inBacklog reports whether seq belongs to the backlog lane.
func (w *window) inBacklog(seq uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.boundary == 0 || seq <= w.boundary
}

// takenLocked moves the cursor of seq's lane past it.
func (w *window) takenLocked(seq uint64) {
	if w.boundary != 0 && seq > w.boundary {
		w.live = max(w.live, seq)
		return
	}
	w.after = max(w.after, seq)
	if w.boundary != 0 && w.after >= w.boundary {
		w.mergeLocked()
	}
}

// admit adds entry e once its identifier cannot collide with a flight.
func (w *window) admit(ctx context.Context, e offline.Entry) (*flight, error) {
	for {
		w.mu.Lock()
		if len(w.flights) < w.capacity() && w.byPID[pidOf(e.Seq)] == nil {
			f := &flight{seq: e.Seq, pid: pidOf(e.Seq), msg: e.Message, received: e.Received, sent: e.Received, expires: expiresAt(e)}
			w.flights = append(w.flights, f)
			w.byPID[f.pid] = f
			w.takenLocked(e.Seq)
			w.mu.Unlock()
			return f, nil
		}
		w.mu.Unlock()
		select {
		case <-w.freed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// skip moves the read position past an entry that was not admitted.
func (w *window) skip(seq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.takenLocked(seq)
}

// remove takes the flight with identifier pid out of the window if its QoS
// is qos — for QoS 2, only once its PUBREC was received; nil if there is
// none.
func (w *window) remove(pid uint16, qos byte) *flight {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.byPID[pid]
	if f == nil || f.msg.QoS != qos || qos == 2 && !f.received {
		return nil
	}
	w.removeLocked(f)
	return f
}

// removeRejected takes the flight with identifier pid and QoS qos out of
// the window whatever its state; nil if there is none.
func (w *window) removeRejected(pid uint16, qos byte) *flight {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.byPID[pid]
	if f == nil || f.msg.QoS != qos {
		return nil
	}
	w.removeLocked(f)
	return f
}

func (w *window) removeLocked(f *flight) {
	delete(w.byPID, f.pid)
	for i, g := range w.flights {
		if g == f {
			w.flights = append(w.flights[:i], w.flights[i+1:]...)
			break
		}
	}
	select {
	case w.freed <- struct{}{}:
	default:
	}
}

// setQoS changes the QoS of the flight with identifier pid (sent at the
// upstream's Maximum QoS).
func (w *window) setQoS(pid uint16, qos byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f := w.byPID[pid]; f != nil {
		f.msg.QoS = qos
	}
}

// get returns the flight with identifier pid, or nil.
func (w *window) get(pid uint16) *flight {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.byPID[pid]
}

// update runs fn on a flight under the window's lock.
func (w *window) update(f *flight, fn func(f *flight)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn(f)
}

// resume prepares the window for a new connection and returns the flights to
// re-send, oldest first. Without a session on the upstream (sessionPresent
// false) the upstream forgot every PUBREC, so received QoS 2 messages are
// published again rather than released, which would lose them.
func (w *window) resume(sessionPresent bool) []flight {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]flight, 0, len(w.flights))
	for _, f := range w.flights {
		if !sessionPresent {
			f.received = false
		}
		f.marking = false
		out = append(out, *f)
		f.sent, f.sentAt = true, time.Now()
	}
	return out
}

// readPos returns the last sequence number read from the queue, in either
// lane.
func (w *window) readPos() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return max(w.after, w.live)
}

// len returns the number of flights.
func (w *window) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.flights)
}
