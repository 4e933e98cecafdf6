package bridge_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// scripted is a scripted MQTT server for checks at the wire level (packet
// identifiers, DUP flags, PUBREL versus PUBLISH) that a real broker does not
// expose. The test plays the server's side packet by packet. It is never the
// only peer of a feature: the same flows run against Mosquitto and mochi.
type scripted struct {
	t  *testing.T
	ln net.Listener
}

func newScripted(t *testing.T) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &scripted{t: t, ln: ln}
}

func (s *scripted) addr() string { return "tcp://" + s.ln.Addr().String() }

// serverConn is one accepted connection of a scripted server.
type serverConn struct {
	t    *testing.T
	nc   net.Conn
	r    *packet.Reader
	subs []packet.Subscription // every SUBSCRIBE read so far
}

// accept waits for the bridge's next connection and reads its CONNECT.
func (s *scripted) accept() (*serverConn, *packet.Connect) {
	s.t.Helper()
	s.ln.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
	nc, err := s.ln.Accept()
	if err != nil {
		s.t.Fatalf("accept: %v", err)
	}
	s.t.Cleanup(func() { nc.Close() })
	c := &serverConn{t: s.t, nc: nc, r: packet.NewReader(nc, 1<<20)}
	p := c.read()
	connect, ok := p.(*packet.Connect)
	if !ok {
		s.t.Fatalf("first packet %T, want CONNECT", p)
	}
	return c, connect
}

// connack accepts the connection.
func (c *serverConn) connack(sessionPresent bool) {
	c.write(&packet.Connack{SessionPresent: sessionPresent})
}

func (c *serverConn) write(p packet.Packet) {
	c.t.Helper()
	buf, err := packet.Append(nil, p)
	if err != nil {
		c.t.Fatalf("encode %T: %v", p, err)
	}
	if _, err := c.nc.Write(buf); err != nil {
		c.t.Fatalf("write %T: %v", p, err)
	}
}

// read returns the next packet, skipping PINGREQs (answered) and the
// SUBSCRIBE of the in rule (acknowledged); it fails the test when none came
// within 20 s (PINGREQs do not extend that).
func (c *serverConn) read() packet.Packet {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c.nc.SetReadDeadline(deadline)
		p, err := c.r.Read()
		if err != nil {
			c.t.Fatalf("server read: %v", err)
		}
		switch p := p.(type) {
		case *packet.Pingreq:
			c.write(&packet.Pingresp{})
		case *packet.Subscribe:
			c.subs = append(c.subs, p.Subscriptions...)
			codes := make([]byte, len(p.Subscriptions))
			for i, s := range p.Subscriptions {
				codes[i] = s.QoS
			}
			c.write(&packet.Suback{PacketID: p.PacketID, ReturnCodes: codes})
		default:
			return p
		}
	}
}

// readPublish reads the next packet and requires a PUBLISH.
func (c *serverConn) readPublish() *packet.Publish {
	c.t.Helper()
	p := c.read()
	pub, ok := p.(*packet.Publish)
	if !ok {
		c.t.Fatalf("got %s, want PUBLISH", show(p))
	}
	return pub
}

// readPubrel reads the next packet and requires a PUBREL.
func (c *serverConn) readPubrel() *packet.Pubrel {
	c.t.Helper()
	p := c.read()
	rel, ok := p.(*packet.Pubrel)
	if !ok {
		c.t.Fatalf("got %s, want PUBREL", show(p))
	}
	return rel
}

// expectClosed waits for the bridge to close the connection.
func (c *serverConn) expectClosed() {
	c.t.Helper()
	for {
		c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		p, err := c.r.Read()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.t.Fatal("bridge did not close the connection")
			}
			return
		}
		if _, ok := p.(*packet.Pingreq); ok {
			continue // silent server: no PINGRESP
		}
		if _, ok := p.(*packet.Disconnect); !ok {
			c.t.Logf("ignored %s before close", show(p))
		}
	}
}

func show(p packet.Packet) string {
	switch p := p.(type) {
	case *packet.Publish:
		return fmt.Sprintf("PUBLISH{id %d qos %d dup %v %s %q}", p.PacketID, p.QoS, p.Dup, p.Topic, p.Payload)
	default:
		return fmt.Sprintf("%T%+v", p, p)
	}
}
