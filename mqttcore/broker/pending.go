package broker

import (
	"container/list"
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
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
// timeout, and one address cannot take the whole allowance.
//
// A network connection — a raw one served by [Broker.ServeConn], or the
// HTTP connection of a WebSocket listener from its first byte — counts
// only once it has gone pendingGrace without an accepted CONNECT: a client
// that logs in at once never takes part, so a burst of logins from one
// address (2,000 clients started together behind one NAT, or a benchmark)
// is not cut down to the address's allowance by pushing out connections
// whose CONNECT is already on its way. Open sockets are thus bounded by
// MaxConnections + MaxPending, plus the connections opened within the last
// pendingGrace.

// pendingGrace is how long a network connection may go without an
// accepted CONNECT before it counts as pending.
const pendingGrace = 250 * time.Millisecond

// pending tracks the connections that have not completed CONNECT; the
// counted ones oldest first.
type pending struct {
	mu      sync.Mutex
	max     int                       // Options.MaxPending
	perIP   int                       // the allowance of one address
	evicted *atomic.Uint64            // Stats.PendingEvicted
	order   *list.List                // of the counted *pendingConn, oldest first
	byConn  map[net.Conn]*pendingConn // by raw connection, counted or not
	byIP    map[netip.Addr]int        // counted connections by address
}

type pendingConn struct {
	conn   net.Conn
	ip     netip.Addr
	elem   *list.Element      // in order once counted, else nil
	grace  *time.Timer        // counts it when pendingGrace is over
	cancel context.CancelFunc // ends its CONNECT's handling when pushed out; may be nil
}

func newPending(n int, evicted *atomic.Uint64) *pending {
	return &pending{max: n, perIP: max(1, n/4), evicted: evicted, order: list.New(),
		byConn: make(map[net.Conn]*pendingConn), byIP: make(map[netip.Addr]int)}
}

// watch registers conn (a raw network connection), to be counted if it is
// still registered after pendingGrace; if it is pushed out, cancel is
// called too (a CONNECT's authentication, with its failure penalty, then
// ends with the connection). Registering a connection twice only sets its
// cancel, if it had none (a WebSocket's HTTP connection, registered before
// its CONNECT is read).
func (p *pending) watch(conn net.Conn, cancel context.CancelFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc := p.registerLocked(conn); pc != nil {
		pc.cancel = cancel
		pc.grace = time.AfterFunc(pendingGrace, func() { p.graceOver(pc) })
	} else if pc := p.byConn[conn]; pc != nil && pc.cancel == nil {
		pc.cancel = cancel
	}
}

// remove forgets conn: its CONNECT was accepted, or it closed.
func (p *pending) remove(conn net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removeLocked(conn)
}

// len returns the number of counted pending connections.
func (p *pending) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.order.Len()
}

//

// registerLocked records conn, not counted yet, and returns it; nil if it
// is registered already.
func (p *pending) registerLocked(conn net.Conn) *pendingConn {
	if _, dup := p.byConn[conn]; dup {
		return nil
	}
	pc := &pendingConn{conn: conn, ip: remoteIP(conn.RemoteAddr())}
	p.byConn[conn] = pc
	return pc
}

// graceOver counts pc if it is still pending.
func (p *pending) graceOver(pc *pendingConn) {
	p.mu.Lock()
	var victim *pendingConn
	if p.byConn[pc.conn] == pc {
		victim = p.countLocked(pc)
	}
	p.mu.Unlock()
	p.evict(victim)
}

// countLocked counts pc toward the allowances and returns the connection
// it pushes out, or nil.
func (p *pending) countLocked(pc *pendingConn) (victim *pendingConn) {
	if pc.ip.IsValid() && p.byIP[pc.ip] >= p.perIP {
		victim = p.oldestLocked(pc.ip)
	} else if p.order.Len() >= p.max {
		victim = p.oldestLocked(netip.Addr{})
	}
	if victim != nil {
		p.removeLocked(victim.conn)
	}
	pc.elem = p.order.PushBack(pc)
	p.byIP[pc.ip]++
	return victim
}

// evict closes a connection that was pushed out, if any.
func (p *pending) evict(victim *pendingConn) {
	if victim == nil {
		return
	}
	_ = victim.conn.Close()
	if victim.cancel != nil {
		victim.cancel()
	}
	p.evicted.Add(1)
}

// oldestLocked returns the oldest counted connection from ip, or the
// oldest of all for the zero Addr.
func (p *pending) oldestLocked(ip netip.Addr) *pendingConn {
	for e := p.order.Front(); e != nil; e = e.Next() {
		if pc := e.Value.(*pendingConn); !ip.IsValid() || pc.ip == ip {
			return pc
		}
	}
	return nil
}

func (p *pending) removeLocked(conn net.Conn) {
	pc, ok := p.byConn[conn]
	if !ok {
		return
	}
	delete(p.byConn, conn)
	if pc.grace != nil {
		pc.grace.Stop()
	}
	if pc.elem == nil {
		return
	}
	p.order.Remove(pc.elem)
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
