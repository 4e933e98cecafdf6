package modbus

import (
	"context"
	"fmt"
	"net"
	"sync"

	mb "github.com/simonvetter/modbus"
)

// pool hands out lines: one Modbus connection or serial line (a TCP
// connection, an RS485 port) per URL, shared by the Devs of the unit ids
// reached through it. A Dev made by New has a pool, hence a line, of its
// own; Driver's sensors share one pool. The zero value is ready.
type pool struct {
	mu    sync.Mutex
	lines map[string]*line // by URL
}

// line is one shared connection. It serializes its Devs' exchanges: one
// Sense at a time holds it, so that requests to different units never
// interleave and the library keeps the RTU inter-frame silence between them.
type line struct {
	key    string // the settings fixed at connect time: a second Dev must ask for the same
	url    string
	host   string // host:port of the TCP schemes, for the connect probe
	client *mb.ModbusClient
	sem    chan struct{} // held by the Sense using the line
	open   bool          // client holds a connection; guarded by sem
	refs   int           // Devs using the line; guarded by pool.mu
}

// get returns the line of o.URL, made on first use; a line already used
// with other serial settings is an error.
func (ls *pool) get(o *Opts, host string) (*line, error) {
	key := fmt.Sprintf("request_timeout %v", o.RequestTimeout)
	if host == "" {
		key = fmt.Sprintf("%d baud, parity %s, %d stop bits, request_timeout %v", o.Baud, o.Parity, o.StopBits, o.RequestTimeout)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if l, ok := ls.lines[o.URL]; ok {
		if l.key != key {
			return nil, fmt.Errorf("modbus: %s: another sensor uses it with %s, this one asks for %s; give every sensor on one line the same settings", o.URL, l.key, key)
		}
		l.refs++
		return l, nil
	}
	c, err := mb.NewClient(&mb.ClientConfiguration{
		URL: o.URL, Speed: uint(o.Baud), DataBits: 8, Parity: parities[o.Parity], StopBits: uint(o.StopBits),
		Timeout: o.RequestTimeout, Logger: libLogger(o.Logger),
	})
	if err != nil {
		return nil, fmt.Errorf("modbus: %s: %w", o.URL, err)
	}
	l := &line{key: key, url: o.URL, host: host, client: c, sem: make(chan struct{}, 1), refs: 1}
	if ls.lines == nil {
		ls.lines = map[string]*line{}
	}
	ls.lines[o.URL] = l
	return l, nil
}

// put gives l back; the last Dev to give it back closes it.
func (ls *pool) put(l *line) {
	ls.mu.Lock()
	l.refs--
	last := l.refs == 0
	if last {
		delete(ls.lines, l.url)
	}
	ls.mu.Unlock()
	if last {
		l.sem <- struct{}{} // wait for a Sense still using it
		l.close()
		<-l.sem
	}
}

//

// acquire takes the line for one Sense, or fails when ctx is done first.
func (l *line) acquire(ctx context.Context) error {
	select {
	case l.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *line) release() { <-l.sem }

// connect opens the connection or serial port unless it is open, and
// reports whether it opened it. For the TCP schemes a dial that honours
// ctx comes first: the library's own dial waits up to 5 seconds whatever
// ctx says. The line is held.
func (l *line) connect(ctx context.Context) (opened bool, err error) {
	if l.open {
		return false, nil
	}
	if l.host != "" {
		var dialer net.Dialer
		c, err := dialer.DialContext(ctx, "tcp", l.host)
		if err != nil {
			return false, fmt.Errorf("modbus: connect %s: %w", l.url, unwrapOp(err))
		}
		c.Close()
	}
	if err := l.client.Open(); err != nil {
		return false, fmt.Errorf("modbus: connect %s: %w", l.url, unwrapOp(err))
	}
	l.open = true
	return true, nil
}

// close closes the connection or serial port; the line is held.
func (l *line) close() {
	if l.open {
		l.client.Close()
		l.open = false
	}
}
