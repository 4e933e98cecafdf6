package statuspage

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of the server: a Pi serves a few browsers and a Prometheus
// scraper, never thousands of clients.
const (
	// ReadHeaderTimeout bounds a request's headers (and a TLS handshake).
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds a whole request.
	ReadTimeout = 10 * time.Second
	// WriteTimeout bounds a response, a throttled login included.
	WriteTimeout = 15 * time.Second
	// IdleTimeout closes keep-alive connections left idle.
	IdleTimeout = 60 * time.Second
	// MaxHeaderBytes bounds request headers.
	MaxHeaderBytes = 8 << 10
	// MaxConns bounds open connections; more are closed at once.
	MaxConns = 32
)

// ServeOptions configure Serve.
type ServeOptions struct {
	// TLS, when set, serves HTTPS.
	TLS *tls.Config
	// Grace is how long Serve waits, once ctx ends, for requests under way
	// before it closes their connections. Default 1s.
	Grace time.Duration
	// Logger receives the server's errors (bad TLS handshakes, …) at
	// Debug. nil discards.
	Logger *slog.Logger
}

// Serve serves h on ln until ctx ends, then stops accepting, lets requests
// under way finish within Grace (their contexts are cancelled) and closes
// every connection and ln. It returns nil after ctx ended, or the error
// that stopped it serving.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, o ServeOptions) error {
	if o.Grace <= 0 {
		o.Grace = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	ln = &limitListener{Listener: ln, max: MaxConns}
	if o.TLS != nil {
		ln = tls.NewListener(ln, o.TLS)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("statuspage: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.Grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("statuspage: serve: %w", err)
	}
	return nil
}

//

// limitListener closes connections beyond max at once instead of serving
// them.
type limitListener struct {
	net.Listener
	max  int64
	open atomic.Int64
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &countedConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		c.Close()
	}
}

// countedConn gives its slot back once, on Close.
type countedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
