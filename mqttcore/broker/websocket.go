package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// wsSubprotocol is the WebSocket subprotocol of MQTT [MQTT-6.0.0-3]
// [MQTT-6.0.0-4].
const wsSubprotocol = "mqtt"

// wsWriteBufs lets idle WebSocket connections hold no write buffer.
var wsWriteBufs sync.Pool

// serveWebSocket serves MQTT over WebSocket at path on l until ctx is done,
// then waits for its connections to end.
func (b *Broker) serveWebSocket(ctx context.Context, l net.Listener, path string) error {
	var conns tracker
	up := &websocket.Upgrader{
		HandshakeTimeout: b.opts.ConnectTimeout,
		Subprotocols:     []string{wsSubprotocol},
		WriteBufferPool:  &wsWriteBufs,
		// MQTT clients are not pages bound by the same-origin policy;
		// authentication is the broker's.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	mux := http.NewServeMux()
	mux.Handle(path, b.wsHandler(ctx, up, &conns))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: b.opts.ConnectTimeout,
		ReadTimeout:       b.opts.ConnectTimeout, // the upgrade request; ServeConn sets its own deadlines
		IdleTimeout:       b.opts.ConnectTimeout, // keep-alive connections that never upgrade
		ConnState:         b.wsConnState,
		ErrorLog:          log.New(io.Discard, "", 0),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	stop := context.AfterFunc(ctx, func() { _ = srv.Close() })
	defer stop()
	err := srv.Serve(l)
	_ = srv.Close()
	conns.closeAndWait()
	if ctx.Err() != nil || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("broker: websocket listener %s: %w", l.Addr(), err)
}

// wsConnState watches HTTP connections as pending from their first byte
// until CONNECT (see pending), so that connections that never upgrade are
// bounded and pushed out like raw sockets that never send CONNECT.
func (b *Broker) wsConnState(conn net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		b.pend.watch(conn, nil)
	case http.StateClosed:
		b.pend.remove(conn)
	}
}

// wsHandler upgrades a request and serves the MQTT connection on it.
func (b *Broker) wsHandler(ctx context.Context, up *websocket.Upgrader, conns *tracker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !conns.add() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		defer conns.done()
		ws, err := up.Upgrade(w, r, nil) // replies with an error itself
		if err != nil {
			b.log.Debug("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
			return
		}
		b.ServeConn(ctx, &wsConn{ws: ws})
	})
}

//

// wsConn adapts a WebSocket connection to net.Conn, so that one code path
// serves every listener: a Write is one binary message, and Read reads
// across message boundaries, as MQTT packets may span or share messages
// [MQTT-6.0.0-2].
type wsConn struct {
	ws *websocket.Conn
	r  io.Reader // the current message
}

var _ net.Conn = (*wsConn)(nil)

// Read implements net.Conn. A text message is a protocol violation
// [MQTT-6.0.0-1].
func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if c.r == nil {
			typ, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, fmt.Errorf("broker: websocket message of type %d, want binary: %w", typ, packet.ErrProtocol)
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r, err = nil, nil
		}
		if n > 0 || err != nil || len(p) == 0 {
			return n, err
		}
		// An empty read, or the end of a message: go on to the next.
	}
}

// Write implements net.Conn: p goes out as one binary message.
func (c *wsConn) Write(p []byte) (int, error) {
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close implements net.Conn.
func (c *wsConn) Close() error { return c.ws.Close() }

// LocalAddr implements net.Conn.
func (c *wsConn) LocalAddr() net.Addr { return c.ws.LocalAddr() }

// RemoteAddr implements net.Conn.
func (c *wsConn) RemoteAddr() net.Addr { return c.ws.RemoteAddr() }

// SetDeadline implements net.Conn.
func (c *wsConn) SetDeadline(t time.Time) error {
	return errors.Join(c.ws.SetReadDeadline(t), c.ws.SetWriteDeadline(t))
}

// SetReadDeadline implements net.Conn.
func (c *wsConn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

// SetWriteDeadline implements net.Conn.
func (c *wsConn) SetWriteDeadline(t time.Time) error { return c.ws.SetWriteDeadline(t) }

// tracker counts running handlers so that shutdown can wait for them, and
// refuses new ones once closed.
type tracker struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func (t *tracker) add() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Add(1)
	return true
}

func (t *tracker) done() { t.wg.Done() }

func (t *tracker) closeAndWait() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.wg.Wait()
}
