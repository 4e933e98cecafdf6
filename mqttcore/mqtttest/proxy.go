package mqtttest

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Mode is what a Proxy does with connections and bytes.
type Mode int32

// Proxy modes. The mode applies from the next chunk of bytes the proxy reads,
// so a switch takes effect at once for any later packet.
const (
	// Pass forwards bytes both ways unchanged.
	Pass Mode = iota
	// Refuse closes new connections as soon as they are accepted (FIN);
	// existing connections keep passing bytes.
	Refuse
	// Reset resets every existing connection, both to the client and to the
	// server (RST, via SetLinger(0)), and resets new ones on accept.
	Reset
	// Blackhole keeps connections open but silently discards the bytes in
	// both directions: no FIN, no RST, like a dead route.
	Blackhole
	// DropToClient discards the bytes from the server to the client and
	// passes the client's bytes: the server hears the client, the client
	// hears nothing back.
	DropToClient
	// DropToServer discards the bytes from the client to the server and
	// passes the server's bytes.
	DropToServer
	// Slow forwards bytes in chunks of at most SlowChunk bytes and waits the
	// delay set with SetDelay (default 50 ms) before each chunk.
	Slow
)

// SlowChunk is the largest chunk the Slow mode forwards after one delay.
const SlowChunk = 1024

var modeNames = [...]string{"pass", "refuse", "reset", "blackhole", "drop-to-client", "drop-to-server", "slow"}

// String returns the mode's name.
func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "mode(?)"
}

// Proxy is a TCP fault proxy between clients and one upstream address. It
// listens on a loopback port; every accepted connection is paired with a new
// connection to the upstream.
//
// Limitations: it works on byte streams and knows nothing about MQTT, so it
// cannot drop a chosen packet; a switch of mode applies from the next chunk
// read (a chunk may hold several packets, or part of one). Bytes that were
// discarded leave a stream corrupt, so a connection that lost bytes is reset
// (RST) instead of passing bytes again when the mode goes back to passing:
// like a NAT entry that expired during an outage, not like a route that
// recovers within TCP's retransmission time. Half-closes are not forwarded:
// when either side closes, both connections are closed.
type Proxy struct {
	upstream string
	ln       net.Listener
	wg       sync.WaitGroup
	accepted atomic.Int64

	mu     sync.Mutex
	mode   Mode
	delay  time.Duration
	pairs  map[*pair]struct{}
	closed bool
}

// NewProxy starts a proxy to upstreamAddr on 127.0.0.1:0 in Pass mode. It is
// closed, with all its connections, when the test ends.
func NewProxy(t testing.TB, upstreamAddr string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mqtttest: proxy listen: %v", err)
	}
	p := &Proxy{upstream: upstreamAddr, ln: ln, delay: 50 * time.Millisecond, pairs: map[*pair]struct{}{}}
	p.wg.Add(1)
	go p.acceptLoop()
	t.Cleanup(p.Close)
	return p
}

// Addr returns the proxy's "host:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Mode returns the current mode.
func (p *Proxy) Mode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// SetMode switches the mode. Switching to Reset resets every open
// connection; switching to a mode that passes bytes resets the connections
// that lost bytes before.
func (p *Proxy) SetMode(m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	for pr := range p.pairs {
		if m == Reset || (passes(m) && pr.corrupt.Load()) {
			pr.reset()
		}
	}
}

// SetDelay sets the per-chunk delay of the Slow mode.
func (p *Proxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// Accepted returns how many connections the proxy accepted so far,
// including refused and reset ones.
func (p *Proxy) Accepted() int { return int(p.accepted.Load()) }

// Active returns how many proxied connections are open.
func (p *Proxy) Active() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pairs)
}

// Close stops accepting, resets every connection and waits for the proxy's
// goroutines. It is safe to call more than once.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	for pr := range p.pairs {
		pr.reset()
	}
	p.mu.Unlock()
	_ = p.ln.Close()
	p.wg.Wait()
}

//

// pair is one proxied connection: the accepted client side and the dialed
// server side.
type pair struct {
	client, server net.Conn
	corrupt        atomic.Bool // bytes were discarded
	once           sync.Once
}

func (pr *pair) reset() {
	pr.once.Do(func() {
		for _, c := range []net.Conn{pr.client, pr.server} {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
		}
	})
}

func (pr *pair) close() {
	pr.once.Do(func() {
		_ = pr.client.Close()
		_ = pr.server.Close()
	})
}

func passes(m Mode) bool { return m == Pass || m == Refuse || m == Slow }

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.accepted.Add(1)
		p.handle(c)
	}
}

func (p *Proxy) handle(c net.Conn) {
	switch p.Mode() {
	case Refuse:
		_ = c.Close()
		return
	case Reset:
		_ = c.(*net.TCPConn).SetLinger(0)
		_ = c.Close()
		return
	}
	s, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		_ = c.(*net.TCPConn).SetLinger(0)
		_ = c.Close()
		return
	}
	pr := &pair{client: c, server: s}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		pr.reset()
		return
	}
	p.pairs[pr] = struct{}{}
	p.wg.Add(2)
	p.mu.Unlock()
	go p.pipe(pr, c, s, DropToServer)
	go p.pipe(pr, s, c, DropToClient)
}

// pipe copies src to dst chunk by chunk, applying the mode current at each
// chunk. drop is the one-way mode that discards this direction.
func (p *Proxy) pipe(pr *pair, src, dst net.Conn, drop Mode) {
	defer p.wg.Done()
	defer p.forget(pr)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.forward(pr, dst, buf[:n], drop) {
			return
		}
		if err != nil {
			pr.close()
			return
		}
	}
}

// forward writes one chunk according to the mode; false ends the pipe.
func (p *Proxy) forward(pr *pair, dst net.Conn, chunk []byte, drop Mode) bool {
	p.mu.Lock()
	mode, delay := p.mode, p.delay
	p.mu.Unlock()
	switch {
	case mode == Blackhole || mode == drop:
		pr.corrupt.Store(true)
		return true
	case mode == Reset || pr.corrupt.Load():
		pr.reset()
		return false
	case mode == Slow:
		for len(chunk) > 0 {
			n := min(len(chunk), SlowChunk)
			time.Sleep(delay)
			if _, err := dst.Write(chunk[:n]); err != nil {
				pr.close()
				return false
			}
			chunk = chunk[n:]
		}
		return true
	}
	if _, err := dst.Write(chunk); err != nil {
		pr.close()
		return false
	}
	return true
}

func (p *Proxy) forget(pr *pair) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pairs, pr)
}
