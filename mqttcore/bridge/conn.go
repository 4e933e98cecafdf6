package bridge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// Sizes of a connection's buffers.
const (
	writeBatch = 64 << 10 // bytes gathered into one socket write
	inBuffer   = 64       // upstream PUBLISH/PUBREL waiting for the inbound worker
)

// conn is one MQTT connection to the upstream, from CONNACK to close. Its
// goroutines (reader, writer, keepalive, inbound worker and the short-lived
// MarkReceived calls) are tracked by wg and stop when ctx ends; the first
// error cancels ctx and becomes its cause.
type conn struct {
	b              *Bridge
	up             *upstream // the settings it was made with
	addr           address
	nc             net.Conn
	r              *packet.Reader
	sessionPresent bool
	ver            packet.Version // the wire format: V311, or V5 (Options.Protocol)
	lim            limits         // the upstream's CONNACK limits (MQTT 5.0)

	ctx    context.Context
	cancel context.CancelCauseFunc
	out    chan packet.Packet // to the writer
	in     chan packet.Packet // PUBLISH and PUBREL to the inbound worker
	wg     sync.WaitGroup

	lastRecv atomic.Int64 // Bridge.since() of the last packet read
	lastSent atomic.Int64 // Bridge.since() of the last socket write
	lastPing atomic.Int64 // Bridge.since() of the last PINGREQ
	stalled  atomic.Bool  // the reader waits for the inbound worker or the acker
	rel      relQueue     // PUBRELs in PUBREC order

	// The queue's orphans (see loadOrphans).
	orphanGen   uint64 // of the last look (drain goroutine only)
	orphanMu    sync.Mutex
	orphansSeen map[uint64]struct{} // orphan seqs this connection knows
	orphansDue  []uint64            // orphan seqs waiting for release, in order
	awaiting    map[uint16][]uint64 // identifier released, PUBCOMP not back → its orphan seqs
}

// dial connects to a, sends CONNECT and waits for the CONNACK, all within
// Options.ConnectTimeout.
func (b *Bridge) dial(ctx context.Context, u *upstream, a address) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, b.o.ConnectTimeout)
	defer cancel()
	nc, err := b.dialNet(dctx, u, a)
	if err != nil {
		return nil, fmt.Errorf("bridge: %s: %w", a.raw, err)
	}
	c, err := b.handshake(dctx, u, a, nc)
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("bridge: %s: %w", a.raw, err)
	}
	return c, nil
}

func (b *Bridge) dialNet(ctx context.Context, u *upstream, a address) (net.Conn, error) {
	d := &net.Dialer{}
	if !a.tls {
		return d.DialContext(ctx, "tcp", a.hostPort)
	}
	td := &tls.Dialer{NetDialer: d, Config: tlsConfig(u.TLS, a)}
	return td.DialContext(ctx, "tcp", a.hostPort)
}

// tlsConfig returns the upstream's TLS settings t completed for a:
// ServerName defaults to the address's host, the minimum version to TLS 1.2.
func tlsConfig(t *tls.Config, a address) *tls.Config {
	cfg := &tls.Config{}
	if t != nil {
		cfg = t.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(a.hostPort)
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// handshake sends CONNECT and reads the CONNACK.
func (b *Bridge) handshake(ctx context.Context, u *upstream, a address, nc net.Conn) (*conn, error) {
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	ver := b.o.Protocol
	buf, err := ver.Append(nil, b.connectPacket(u))
	if err != nil {
		return nil, err
	}
	if _, err := nc.Write(buf); err != nil {
		return nil, fmt.Errorf("send connect: %w", err)
	}
	r := packet.NewReader(nc, b.o.MaxPacketSize)
	r.SetVersion(ver)
	p, err := r.Read()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("await connack: %w", ctx.Err())
		}
		if ver == packet.V5 && (errors.Is(err, packet.ErrProtocol) || errors.Is(err, packet.ErrMalformed)) {
			// An MQTT 3.1.1 server answers CONNACK 0x01 in its own format.
			return nil, fmt.Errorf("await connack: %w (does the upstream speak MQTT 5? bridge.protocol 3.1.1 may be needed)", err)
		}
		return nil, fmt.Errorf("await connack: %w", err)
	}
	ack, ok := p.(*packet.Connack)
	if !ok {
		return nil, fmt.Errorf("%w: %T instead of CONNACK", ErrUnexpected, p)
	}
	if ver == packet.V5 && ack.ReasonCode != packet.Success {
		b.noteWillRefused(ack.ReasonCode)
		return nil, fmt.Errorf("connection refused: %w", ack.ReasonCode)
	}
	if ver != packet.V5 && ack.ReturnCode != packet.Accepted {
		return nil, fmt.Errorf("connection refused: %w", ack.ReturnCode)
	}
	if !stop() {
		return nil, ctx.Err()
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	c := &conn{
		b: b, up: u, addr: a, nc: nc, r: r, sessionPresent: ack.SessionPresent,
		ver: ver, lim: b.limitsOf(ack),
		out: make(chan packet.Packet, 2*b.o.Inflight+256),
		in:  make(chan packet.Packet, inBuffer),
	}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	now := int64(b.since())
	c.lastRecv.Store(now)
	c.lastSent.Store(now)
	c.lastPing.Store(now)
	return c, nil
}

// connectPacket builds the CONNECT, with the offline status as will when
// monitoring is on.
func (b *Bridge) connectPacket(u *upstream) *packet.Connect {
	p := &packet.Connect{
		ProtocolName:  packet.ProtocolMQTT,
		ProtocolLevel: byte(b.o.Protocol),
		CleanSession:  b.o.CleanSession,
		KeepAlive:     uint16((max(b.o.KeepAlive, 0) + time.Second - 1) / time.Second),
		ClientID:      u.ClientID,
	}
	if u.Username != "" {
		p.UsernameFlag, p.Username = true, u.Username
		if u.Password != "" {
			p.PasswordFlag, p.Password = true, []byte(u.Password)
		}
	}
	if b.o.Monitor.TopicPrefix != "" {
		p.WillFlag, p.WillQoS, p.WillRetain = true, 1, true
		p.WillTopic = b.statusTopic()
		p.WillMessage = b.statusPayload(u.ClientID, "offline", "connection lost", false)
		if b.willPlain.Load() { // an MQTT 5.0 upstream refused the retained QoS 1 will
			p.WillQoS, p.WillRetain = 0, false
		}
	}
	if b.o.Protocol == packet.V5 {
		p.Props = b.connectProps()
	}
	return p
}

//

// start runs the connection's long-lived goroutines.
func (c *conn) start() {
	context.AfterFunc(c.ctx, func() { _ = c.nc.Close() })
	c.spawn(c.readLoop)
	c.spawn(c.writeLoop)
	c.spawn(c.keepAlive)
	c.spawn(c.inbound)
}

// spawn runs f on a tracked goroutine; an error from f ends the connection.
func (c *conn) spawn(f func() error) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := f(); err != nil {
			c.cancel(err)
		}
	}()
}

// send queues p for the writer; false if the connection ended first.
func (c *conn) send(p packet.Packet) bool { return c.sendCtx(c.ctx, p) }

// sendCtx is send that also gives up when ctx ends.
func (c *conn) sendCtx(ctx context.Context, p packet.Packet) bool {
	select {
	case c.out <- p:
		return true
	case <-ctx.Done():
		return false
	}
}

// trySend queues p unless the writer's queue is full or the connection ended.
func (c *conn) trySend(p packet.Packet) bool {
	if c.ctx.Err() != nil {
		return false
	}
	select {
	case c.out <- p:
		return true
	default:
		return false
	}
}

// writeLoop encodes queued packets and writes them in batches: everything
// queued at the moment (up to writeBatch bytes) goes out in one write.
func (c *conn) writeLoop() error {
	buf := make([]byte, 0, writeBatch)
	for {
		var p packet.Packet
		select {
		case p = <-c.out:
		case <-c.ctx.Done():
			return nil
		}
		var last bool
		buf, last = c.gather(buf[:0], p)
		if len(buf) > 0 {
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout()))
			if _, err := c.nc.Write(buf); err != nil {
				return fmt.Errorf("bridge: write: %w", err)
			}
			c.lastSent.Store(int64(c.b.since()))
		}
		if last {
			return errDisconnected
		}
		if cap(buf) > 4*writeBatch {
			buf = make([]byte, 0, writeBatch)
		}
	}
}

// gather appends p and whatever else is queued to buf. last reports a
// DISCONNECT, after which nothing more may be sent.
func (c *conn) gather(buf []byte, p packet.Packet) (_ []byte, last bool) {
	for {
		if nb, err := c.ver.Append(buf, p); err != nil {
			c.b.log.Error("bridge: cannot encode packet, dropped", "err", err, "type", fmt.Sprintf("%T", p))
		} else {
			buf = nb
		}
		if _, ok := p.(*packet.Disconnect); ok {
			return buf, true
		}
		if len(buf) >= writeBatch {
			return buf, false
		}
		select {
		case p = <-c.out:
		default:
			return buf, false
		}
	}
}

func (c *conn) writeTimeout() time.Duration {
	return max(c.lim.keepAlive, 10*time.Second)
}

// readLoop reads packets until the connection fails and dispatches them.
func (c *conn) readLoop() error {
	for {
		p, err := c.r.Read()
		if err != nil {
			if c.ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("bridge: read: %w", err)
		}
		c.lastRecv.Store(int64(c.b.since()))
		if err := c.dispatch(p); err != nil {
			return err
		}
	}
}

// dispatch routes one packet from the upstream.
func (c *conn) dispatch(p packet.Packet) error {
	switch p := p.(type) {
	case *packet.Puback:
		if p.ReasonCode >= packet.UnspecifiedError {
			c.onRejected(p.PacketID, 1, packet.Ack(*p))
			return nil
		}
		c.onPuback(p.PacketID)
	case *packet.Pubrec:
		if p.ReasonCode >= packet.UnspecifiedError {
			c.onRejected(p.PacketID, 2, packet.Ack(*p))
			return nil
		}
		c.onPubrec(p.PacketID)
	case *packet.Pubcomp:
		c.onPubcomp(p.PacketID)
	case *packet.Publish, *packet.Pubrel:
		select {
		case c.in <- p:
		default: // the local broker is slow: wait, without reading
			c.stallWhile(func() {
				select {
				case c.in <- p:
				case <-c.ctx.Done():
				}
			})
		}
	case *packet.Suback:
		c.b.onSuback(p)
	case *packet.Pingresp, *packet.Unsuback:
	case *packet.Disconnect:
		return c.b.onServerDisconnect(p)
	default:
		return fmt.Errorf("%w: %T", ErrUnexpected, p)
	}
	return nil
}

// stallWhile runs wait, during which the reader does not read: the
// keepalive must not mistake that silence for a dead link.
func (c *conn) stallWhile(wait func()) {
	c.stalled.Store(true)
	wait()
	c.lastRecv.Store(int64(c.b.since()))
	c.stalled.Store(false)
}

// keepAlive sends PINGREQ when the link has been quiet for half the
// keepalive, and ends the connection when nothing at all arrived for a whole
// keepalive: a dead link is detected within 1.25 × KeepAlive.
func (c *conn) keepAlive() error {
	ka := c.lim.keepAlive
	if ka <= 0 { // disabled
		<-c.ctx.Done()
		return nil
	}
	t := time.NewTicker(ka / 4)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return nil
		case <-t.C:
		}
		now := int64(c.b.since())
		quietIn := time.Duration(now - c.lastRecv.Load())
		quietOut := time.Duration(now - c.lastSent.Load())
		if quietIn >= ka && !c.stalled.Load() {
			return fmt.Errorf("%w for %v", ErrKeepAlive, quietIn.Round(time.Millisecond))
		}
		if (quietIn >= ka/2 || quietOut >= ka/2) && time.Duration(now-c.lastPing.Load()) >= ka/2 {
			c.lastPing.Store(now)
			c.trySend(&packet.Pingreq{})
		}
	}
}
