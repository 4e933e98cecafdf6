package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Reasons a connection ends, besides network errors.
var (
	errDisconnect = errors.New("broker: client sent DISCONNECT")
	errTakenOver  = errors.New("broker: client id taken over by a new connection")
	errNotStored  = errors.New("broker: publish hook did not store a message")
	errPanic      = errors.New("broker: internal error")
)

// client is one network connection after its CONNECT was accepted (and
// before, while CONNECT is read). Its goroutine is the one running
// ServeConn: it reads and handles packets. A writer goroutine runs only
// while packets are queued (see writeLoop).
type client struct {
	b         *Broker
	conn      net.Conn
	id        string
	username  string
	clean     bool
	placed    bool            // holds a place under MaxConnections (admit), given back in finish
	s         *sess           // set once CONNECT is accepted
	will      *packet.Publish // nil: none
	graceful  bool            // DISCONNECT received: the will is discarded
	v5        *v5conn         // MQTT 5.0 state; nil for 3.1.1 and 3.1
	expiry    time.Duration   // session expiry asked for (see Broker.sessionExpiry); 0 for 3.1.1
	willDelay time.Duration   // the MQTT 5.0 Will Delay Interval

	closed     atomic.Bool // abort was called
	isV5       atomic.Bool // v5 is set: for shutdown, which runs on another goroutine
	kicked     atomic.Bool // taken over by a new connection with the same id
	willOnKick atomic.Bool // ... and the will must be published anyway

	outMu     sync.Mutex
	out       []outItem
	writing   bool // a writer goroutine is running
	outClosed bool
	final     bool  // a server DISCONNECT is queued: nothing may follow it
	closeWith error // if not nil, the writer aborts with it once the DISCONNECT is written
	cause     error // why the connection was aborted (first cause)
	wg        sync.WaitGroup

	acks ackQueue

	// wake wakes the reader waiting in waitStored or waitRoom: the hook
	// stored a message, the writer took a batch, or the connection closed.
	wake chan struct{}
}

// ServeConn serves one MQTT connection until it ends or ctx is done, then
// closes conn. It is safe to call from many goroutines. A panic while
// handling the connection is recovered and logged, and drops only this
// connection. When ctx is done the client's will is not published (the
// broker is shutting down).
func (b *Broker) ServeConn(ctx context.Context, conn net.Conn) {
	b.stats.conns.Add(1)
	defer b.stats.conns.Add(-1)
	raw := rawConn(conn)
	connectCtx, pushedOut := context.WithCancel(ctx) // for the CONNECT: ends if pending pushes conn out
	defer pushedOut()
	b.pend.watch(raw, pushedOut)
	defer b.pend.remove(raw)
	c := &client{b: b, conn: conn, wake: make(chan struct{}, 1)}
	stop := context.AfterFunc(ctx, func() { c.shutdown(context.Cause(ctx)) })
	defer stop()
	defer c.finish(ctx)
	defer c.recoverPanic("reader")
	c.serve(connectCtx)
}

//

// serve reads the CONNECT, then every packet until the connection ends;
// ctx bounds the handling of the CONNECT.
func (c *client) serve(ctx context.Context) {
	fr := newFrameReader(c.conn, c.b.opts.MaxPacketSize, &c.b.stats)
	fr.rel = &c.b.memRel
	fr.v = packet.V5 // the CONNECT, of any level the broker speaks; then the client's
	defer fr.release()
	_ = c.conn.SetReadDeadline(time.Now().Add(c.b.opts.ConnectTimeout))
	p, err := fr.next()
	if !c.connect(ctx, fr, p, err) {
		return
	}
	err = c.readLoop(fr)
	if c.v5 != nil {
		c.closeV5(err)
	}
	c.logEnd(err)
}

// readLoop handles packets until an error or a DISCONNECT.
func (c *client) readLoop(fr *frameReader) error {
	for {
		p, err := fr.next()
		if err != nil {
			return err
		}
		if c.closed.Load() {
			return c.abortCause()
		}
		if err := c.handle(p); err != nil {
			return err
		}
	}
}

// handle dispatches one packet from a connected client.
func (c *client) handle(p packet.Packet) error {
	switch p := p.(type) {
	case *packet.Publish:
		if c.v5 != nil {
			return c.publishV5(p)
		}
		if err := c.b.checkTopic(p.Topic); err != nil {
			return err
		}
		c.onPublish(p)
	case *packet.Puback:
		c.s.onPuback(p.PacketID)
	case *packet.Pubrec:
		if c.v5 != nil && p.ReasonCode >= packet.UnspecifiedError {
			c.s.onPubrecRefused(p.PacketID)
			return nil
		}
		c.s.onPubrec(p.PacketID)
	case *packet.Pubrel:
		if c.v5 != nil {
			c.onPubrelV5(p.PacketID)
			return nil
		}
		c.onPubrel(p.PacketID)
	case *packet.Pubcomp:
		c.s.onPubcomp(p.PacketID)
	case *packet.Subscribe:
		c.onSubscribe(p)
	case *packet.Unsubscribe:
		c.onUnsubscribe(p)
	case *packet.Pingreq:
		c.enqueue(outItem{n: 2, ctl: [4]byte{byte(packet.PINGRESP) << 4, 0}}, false) // [MQTT-3.12.4-1]
	case *packet.Disconnect:
		if c.v5 != nil {
			return c.onDisconnectV5(p)
		}
		c.graceful = true // the will is discarded [MQTT-3.14.4-3]
		return errDisconnect
	case *packet.Connect:
		return fmt.Errorf("broker: second CONNECT: %w", packet.ErrProtocol) // [MQTT-3.1.0-2]
	case *packet.Auth:
		// No Authentication Method in the CONNECT: no AUTH may follow (4.12).
		return fmt.Errorf("broker: AUTH without an authentication method: %w", packet.ErrProtocol)
	default: // CONNACK, SUBACK, UNSUBACK, PINGRESP: only a server sends them
		return fmt.Errorf("broker: client sent %s: %w", p.Type(), packet.ErrProtocol)
	}
	return nil
}

// abort closes the connection once, remembering the first cause. The
// reader and writer see the closed socket and end.
func (c *client) abort(cause error) {
	c.outMu.Lock()
	already := c.outClosed
	if !already {
		c.outClosed, c.cause, c.out = true, cause, nil
	}
	c.outMu.Unlock()
	if !already {
		c.closed.Store(true)
		_ = c.conn.Close()
		c.wakeReader() // a reader waiting for the hook or for room gives up
	}
}

// abortCause returns the cause given to the first abort.
func (c *client) abortCause() error {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.cause == nil {
		return net.ErrClosed
	}
	return c.cause
}

// kick disconnects a client whose id a new connection takes over
// [MQTT-3.1.4-2]; publishWill says whether its will is published.
func (c *client) kick(publishWill bool) {
	c.willOnKick.Store(publishWill)
	c.kicked.Store(true)
	if c.v5 != nil {
		c.disconnectV5(packet.SessionTakenOver, errTakenOver) // [MQTT-3.1.4-3]
		return
	}
	c.abort(errTakenOver)
}

// finish runs when the connection's goroutine ends: it closes the socket,
// waits for the writer, detaches the session and publishes the will when
// the connection ended without DISCONNECT [MQTT-3.1.2-8], unless the
// broker is shutting down.
func (c *client) finish(ctx context.Context) {
	c.abort(nil)
	c.wg.Wait()
	if c.s == nil {
		return
	}
	defer c.b.stats.connected.Add(-1) // last: a test may wait for it
	if c.placed {
		defer c.b.places.Add(-1)
	}
	c.b.detach(c)
	if c.will != nil && !c.graceful && ctx.Err() == nil && (!c.kicked.Load() || c.willOnKick.Load()) {
		c.b.publishWill(c)
	}
}

// recoverPanic, deferred, turns a panic into the end of this connection.
func (c *client) recoverPanic(where string) {
	if r := recover(); r != nil {
		c.b.log.Error("panic in connection "+where, "client", c.id, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		c.abort(errPanic)
	}
}

// logEnd logs why a connected client's connection ended, at Debug, and
// counts protocol errors.
func (c *client) logEnd(err error) {
	var reason string
	switch {
	case errors.Is(err, errDisconnect):
		reason = "client disconnected"
	case errors.Is(err, os.ErrDeadlineExceeded):
		reason = "keepalive expired" // [MQTT-3.1.2-24]
	case errors.Is(err, ErrTopicLimit):
		c.b.stats.protoErr.Add(1)
		reason = "publish topic over limits"
	case isProtocolError(err):
		c.b.stats.protoErr.Add(1)
		reason = "protocol error"
	case c.closed.Load():
		err = c.abortCause()
		reason = "connection closed by broker"
	case errors.Is(err, io.EOF):
		reason = "connection closed by client"
	default:
		reason = "connection error"
	}
	c.b.log.Debug(reason, "client", c.id, "err", err)
}

// isProtocolError reports whether err is a malformed packet or a protocol
// violation, after which the connection is closed [MQTT-4.8.0-1]. A
// CONNECT refused for its protocol level counts too: after the first
// packet, any CONNECT is a violation.
func isProtocolError(err error) bool {
	var code packet.ConnackCode
	return errors.Is(err, packet.ErrMalformed) || errors.Is(err, packet.ErrProtocol) ||
		errors.Is(err, packet.ErrTooLarge) || errors.As(err, &code)
}
