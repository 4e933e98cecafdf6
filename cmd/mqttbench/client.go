package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Client limits and timeouts.
const (
	// writeLimit is how many bytes may wait for the socket before a
	// publisher blocks.
	writeLimit = 64 << 10
	// maxPacket bounds the packets the tool sends (payloads are small) and
	// the packets it accepts from a broker.
	maxPacket = 1 << 20
	// handshakeTimeout bounds CONNECT→CONNACK and SUBSCRIBE→SUBACK.
	handshakeTimeout = 10 * time.Second
	// disconnectTimeout bounds the final flush and DISCONNECT.
	disconnectTimeout = 2 * time.Second
)

// conn is a lean MQTT 3.1.1 or 5.0 client connection built on
// mqttcore/packet: one goroutine reads and dispatches packets to a handler,
// one (the writer) coalesces outgoing packets into large writes. The QoS
// flows are the caller's: the handler sees every packet and answers through
// write. In MQTT 5.0 the tool sends no properties, so its packets cost what
// 3.1.1's do plus the property length byte (and the reason code the broker
// may add to an acknowledgement).
type conn struct {
	nc net.Conn
	r  *packet.Reader
	w  *writer
	v  packet.Version
	// receiveMax is the broker's Receive Maximum from an MQTT 5.0 CONNACK:
	// how many QoS 1/2 messages the tool may have unacknowledged
	// [MQTT-3.3.4-7]; 65535 when absent, and for 3.1.1.
	receiveMax int
}

// dial connects to addr and completes the MQTT 3.1.1 handshake with a clean
// session. Nothing runs in the background until run.
func dial(ctx context.Context, addr, clientID string, keepAlive uint16) (*conn, error) {
	return dialVersion(ctx, addr, clientID, keepAlive, packet.V311)
}

// dialVersion is dial in protocol version v (packet.V311 or packet.V5; 0
// means V311). An MQTT 5.0 session ends with the connection (Session
// Expiry Interval 0, Clean Start 1).
func dialVersion(ctx context.Context, addr, clientID string, keepAlive uint16, v packet.Version) (*conn, error) {
	if v == 0 {
		v = packet.V311
	}
	d := net.Dialer{Timeout: handshakeTimeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mqttbench: dial %s: %w", addr, err)
	}
	c := &conn{nc: nc, r: packet.NewReader(nc, maxPacket), w: newWriter(nc, writeLimit, maxPacket), v: v,
		receiveMax: 65535}
	c.r.SetVersion(v)
	c.w.v = v
	connect := &packet.Connect{
		ProtocolName: packet.ProtocolMQTT, ProtocolLevel: byte(v),
		CleanSession: true, KeepAlive: keepAlive, ClientID: clientID,
	}
	p, err := c.roundTrip(ctx, connect)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("mqttbench: connect %s as %q: %w", addr, clientID, err)
	}
	ack, ok := p.(*packet.Connack)
	switch {
	case !ok:
		err = fmt.Errorf("got %v instead of CONNACK", p.Type())
	case v >= packet.V5 && ack.ReasonCode != packet.Success:
		err = fmt.Errorf("CONNACK reason code %v", ack.ReasonCode)
	case v < packet.V5 && ack.ReturnCode != packet.Accepted:
		err = ack.ReturnCode
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("mqttbench: connect %s as %q: %w", addr, clientID, err)
	}
	if ack.Props != nil && ack.Props.ReceiveMaximum > 0 {
		c.receiveMax = int(ack.Props.ReceiveMaximum)
	}
	return c, nil
}

// subscribe subscribes to filter at qos and checks that the broker granted
// that QoS. It must be called before run.
func (c *conn) subscribe(ctx context.Context, filter string, qos byte) error {
	sub := &packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: filter, QoS: qos}}}
	p, err := c.roundTrip(ctx, sub)
	if err != nil {
		return fmt.Errorf("mqttbench: subscribe %q: %w", filter, err)
	}
	ack, ok := p.(*packet.Suback)
	switch {
	case !ok:
		return fmt.Errorf("mqttbench: subscribe %q: got %v instead of SUBACK", filter, p.Type())
	case len(ack.ReturnCodes) != 1 || ack.ReturnCodes[0] != qos:
		return fmt.Errorf("mqttbench: subscribe %q at qos %d: broker answered %v", filter, qos, ack.ReturnCodes)
	}
	return nil
}

// run reads packets and passes each to handle until ctx is done or the
// connection fails. On cancellation it flushes what is queued, sends
// DISCONNECT, closes the socket and returns nil. handle runs on the reading
// goroutine; an error from it ends run with that error.
func (c *conn) run(ctx context.Context, handle func(packet.Packet) error) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.w.run()
	}()
	stop := context.AfterFunc(ctx, func() { c.w.finish(&packet.Disconnect{}, disconnectTimeout) })
	err := c.readLoop(handle)
	if stop() {
		// The connection failed (or the handler refused a packet)
		// before cancellation: abort the writer.
		c.w.close()
		c.nc.Close()
	}
	// Otherwise the writer flushes the DISCONNECT and closes the socket,
	// which is what ended readLoop.
	wg.Wait()
	c.w.close()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// write queues p for the socket; it blocks while the write buffer is full.
func (c *conn) write(p packet.Packet) error { return c.w.write(p) }

// close closes the socket at once, without DISCONNECT. It is for
// connections that never ran.
func (c *conn) close() {
	c.w.close()
	c.nc.Close()
}

//

// readLoop reads until an error; a packet the handler refuses ends it too.
func (c *conn) readLoop(handle func(packet.Packet) error) error {
	for {
		p, err := c.r.Read()
		if err != nil {
			return fmt.Errorf("mqttbench: read: %w", err)
		}
		if err := handle(p); err != nil {
			return err
		}
	}
}

// roundTrip writes p directly (run has not started) and reads the answer,
// skipping nothing: during a handshake the broker sends nothing else.
func (c *conn) roundTrip(ctx context.Context, p packet.Packet) (packet.Packet, error) {
	deadline := time.Now().Add(handshakeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Now()) })
	defer stop()
	_ = c.nc.SetDeadline(deadline)
	defer c.nc.SetDeadline(time.Time{})
	b, err := c.v.Append(nil, p)
	if err != nil {
		return nil, err
	}
	if _, err := c.nc.Write(b); err != nil {
		return nil, errors.Join(err, ctx.Err())
	}
	ans, err := c.r.Read()
	if err != nil {
		return nil, errors.Join(err, ctx.Err())
	}
	return ans, nil
}
