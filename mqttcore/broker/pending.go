package broker

import (
	"container/list"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Connections that have not sent an accepted CONNECT yet — including TLS
// handshakes and WebSocket HTTP connections before and after the upgrade —
// are "pending". They do not count toward Options.MaxConnections, which
// bounds connected clients; they have an allowance of their own,
// Options.MaxPending, and one per remote address, a quarter of it. A new
// pending connection over either allowance closes the oldest pending one
// (of the same address first): sockets that never send CONNECT are pushed
// out by newer ones instead of locking clients out until the connect
// timeout, and one address cannot take the whole allowance. Open sockets
// are thus bounded by MaxConnections + MaxPending.

// pending tracks the connections that have not completed CONNECT, oldest
// first.
type pending struct {
	mu     sync.Mutex
	max    int                        // Options.MaxPending
	perIP  int                        // the allowance of one address
	order  *list.List                 // of *pendingConn, oldest first
	byConn map[net.Conn]*list.Element // by raw connection
	byIP   map[netip.Addr]int
}

type pendingConn struct {
	conn net.Conn
	ip   netip.Addr
	at   time.Time
}

func newPending(n int) *pending {
	return &pending{max: n, perIP: max(1, n/4), order: list.New(),
		byConn: make(map[net.Conn]*list.Element), byIP: make(map[netip.Addr]int)}
}

// add registers conn (a raw network connection) and closes the
// connections it pushes out; it returns how many. Adding a connection
// twice does nothing.
func (p *pending) add(conn net.Conn) (evicted int) {
	ip := remoteIP(conn.RemoteAddr())
	var victims []net.Conn
	p.mu.Lock()
	if _, dup := p.byConn[conn]; dup {
		p.mu.Unlock()
		return 0
	}
	if ip.IsValid() && p.byIP[ip] >= p.perIP {
		victims = append(victims, p.oldestLocked(ip))
	} else if p.order.Len() >= p.max {
		victims = append(victims, p.oldestLocked(netip.Addr{}))
	}
	for _, v := range victims {
		p.removeLocked(v)
	}
	p.byConn[conn] = p.order.PushBack(&pendingConn{conn: conn, ip: ip, at: time.Now()})
	p.byIP[ip]++
	p.mu.Unlock()
	for _, v := range victims {
		_ = v.Close()
	}
	return len(victims)
}

// remove forgets conn: its CONNECT was accepted, or it closed.
func (p *pending) remove(conn net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removeLocked(conn)
}

// len returns the number of pending connections.
func (p *pending) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.order.Len()
}

// oldestLocked returns the oldest pending connection from ip, or the oldest
// of all for the zero Addr.
func (p *pending) oldestLocked(ip netip.Addr) net.Conn {
	for e := p.order.Front(); e != nil; e = e.Next() {
		if pc := e.Value.(*pendingConn); !ip.IsValid() || pc.ip == ip {
			return pc.conn
		}
	}
	return nil
}

func (p *pending) removeLocked(conn net.Conn) {
	e, ok := p.byConn[conn]
	if !ok {
		return
	}
	pc := p.order.Remove(e).(*pendingConn)
	delete(p.byConn, conn)
	if p.byIP[pc.ip]--; p.byIP[pc.ip] <= 0 {
		delete(p.byIP, pc.ip)
	}
}

// rawConn returns the network connection under c: the TCP connection of a
// WebSocket, or c itself.
func rawConn(c net.Conn) net.Conn {
	if ws, ok := c.(*wsConn); ok {
		return ws.ws.NetConn()
	}
	return c
}
