package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// IdleConfig describes the idle-connections scenario.
type IdleConfig struct {
	// Addr is the broker's "host:port".
	Addr string
	// PID is the broker's process id, for its RSS; 0 = RSS not measured.
	PID int
	// Conns is how many connections to open, 1 to 100000.
	Conns int
	// Parallel is how many handshakes are in progress at once.
	Parallel int
	// KeepAlive is the keepalive sent in CONNECT, in seconds.
	KeepAlive uint16
	// Settle is the pause before each RSS reading.
	Settle time.Duration
}

// IdleResult is what the idle-connections scenario measured.
type IdleResult struct {
	Conns int `json:"conns"`
	// ConnectTime runs from the first dial to the last CONNACK.
	ConnectTime time.Duration `json:"connect_time_ns"`
	// ConnectRate is Conns / ConnectTime in connections per second.
	ConnectRate float64 `json:"connect_rate"`
	// RSSBefore and RSSAfter are the broker's VmRSS before the first
	// connection and with all of them open, in bytes (0 without a PID).
	RSSBefore int64 `json:"rss_before"`
	RSSAfter  int64 `json:"rss_after"`
	// RSSPerConn is (RSSAfter − RSSBefore) / Conns in bytes.
	RSSPerConn float64 `json:"rss_per_conn"`
}

// runIdle opens c.Conns MQTT connections that then send nothing, reads the
// broker's RSS, and closes them (DISCONNECT first).
func runIdle(ctx context.Context, c IdleConfig) (IdleResult, error) {
	if c.Conns < 1 || c.Conns > 100000 || c.Parallel < 1 {
		return IdleResult{}, fmt.Errorf("mqttbench: idle: conns %d (want 1 to 100000), parallel %d (want ≥ 1)", c.Conns, c.Parallel)
	}
	if err := raiseNoFile(uint64(c.Conns)*2 + 200); err != nil {
		return IdleResult{}, err
	}
	r := IdleResult{Conns: c.Conns}
	var err error
	if c.PID > 0 {
		if r.RSSBefore, err = settledRSS(ctx, c.PID, c.Settle); err != nil {
			return r, err
		}
	}
	start := time.Now()
	conns, err := openIdle(ctx, c)
	defer closeIdle(conns)
	if err != nil {
		return r, err
	}
	r.ConnectTime = time.Since(start)
	r.ConnectRate = float64(c.Conns) / r.ConnectTime.Seconds()
	if c.PID > 0 {
		if r.RSSAfter, err = settledRSS(ctx, c.PID, c.Settle); err != nil {
			return r, err
		}
		r.RSSPerConn = float64(r.RSSAfter-r.RSSBefore) / float64(c.Conns)
	}
	return r, nil
}

// IdleRSS waits settle and returns the broker's VmRSS in bytes.
func IdleRSS(ctx context.Context, pid int, settle time.Duration) (int64, error) {
	return settledRSS(ctx, pid, settle)
}

// readRSS returns the VmRSS of process pid in bytes, from /proc/<pid>/status.
func readRSS(pid int) (int64, error) { return readStatusKB(pid, "VmRSS") }

// readStatusKB returns field (VmRSS, VmHWM, …) of /proc/<pid>/status in
// bytes.
func readStatusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("mqttbench: read %s of pid %d: %w", field, pid, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) == 3 && string(f[0]) == field+":" && string(f[2]) == "kB" {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil {
				break
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("mqttbench: no %s line in /proc/%d/status", field, pid)
}

//

// settledRSS waits settle, then reads the RSS.
func settledRSS(ctx context.Context, pid int, settle time.Duration) (int64, error) {
	if err := sleep(ctx, settle); err != nil {
		return 0, err
	}
	return readRSS(pid)
}

// openIdle opens the connections with c.Parallel workers. On error it
// returns what it opened so far, for closeIdle.
func openIdle(ctx context.Context, c IdleConfig) ([]net.Conn, error) {
	run := rand.Uint32()
	conns := make([]net.Conn, c.Conns)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(c.Parallel, c.Conns) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				nc, err := handshake(ctx, c.Addr, clientID("idle", run, i), c.KeepAlive)
				if err != nil {
					cancel(err)
					continue
				}
				conns[i] = nc
			}
		}()
	}
feed:
	for i := range c.Conns {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		opened := 0
		for _, nc := range conns {
			if nc != nil {
				opened++
			}
		}
		return conns, fmt.Errorf("mqttbench: idle: after %d connections: %w", opened, err)
	}
	return conns, nil
}

// handshake dials addr and completes CONNECT → CONNACK without buffering,
// so an idle connection costs the tool one socket and nothing else.
func handshake(ctx context.Context, addr, id string, keepAlive uint16) (net.Conn, error) {
	d := net.Dialer{Timeout: handshakeTimeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EMFILE) {
			err = fmt.Errorf("%w (raise ulimit -n)", err)
		}
		return nil, fmt.Errorf("mqttbench: dial %s: %w", addr, err)
	}
	b, _ := packet.Append(nil, &packet.Connect{ProtocolName: packet.ProtocolMQTT, ProtocolLevel: packet.Level311,
		CleanSession: true, KeepAlive: keepAlive, ClientID: id})
	_ = nc.SetDeadline(time.Now().Add(handshakeTimeout))
	_, err = nc.Write(b)
	var p packet.Packet
	if err == nil {
		p, err = packet.ReadPacket(nc, maxPacket)
	}
	if err == nil {
		if ack, ok := p.(*packet.Connack); !ok {
			err = fmt.Errorf("got %v instead of CONNACK", p.Type())
		} else if ack.ReturnCode != packet.Accepted {
			err = ack.ReturnCode
		}
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("mqttbench: connect %s as %q: %w", addr, id, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, nil
}

// closeIdle sends DISCONNECT on every open connection and closes it.
func closeIdle(conns []net.Conn) {
	disconnect, _ := packet.Append(nil, &packet.Disconnect{})
	for _, nc := range conns {
		if nc == nil {
			continue
		}
		_ = nc.SetWriteDeadline(time.Now().Add(disconnectTimeout))
		_, _ = nc.Write(disconnect)
		nc.Close()
	}
}
