package mqtttest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// MosquittoPath is where the Debian package installs the broker. When it is
// absent, StartMosquitto looks "mosquitto" up in $PATH.
const MosquittoPath = "/usr/sbin/mosquitto"

// baseConf is written before the caller's extra configuration. Persistence
// is off, so sessions and retained messages live as long as the process.
// max_queued_messages is raised from Mosquitto's default of 1000 so that a
// subscriber that is briefly slower than a draining bridge loses nothing.
const baseConf = `allow_anonymous true
persistence false
max_queued_messages 1000000
set_tcp_nodelay true
log_dest stderr
`

// StartMosquitto runs Mosquitto on a free port of 127.0.0.1 until the test
// ends and returns its "host:port". extraConf is appended to the generated
// configuration, after the listener line, so it may set per-listener options
// or add more listeners.
//
// The test is skipped when Mosquitto is not installed and the environment
// variable CI is unset; with CI set it fails instead.
func StartMosquitto(t testing.TB, extraConf string) (addr string) {
	t.Helper()
	return startMosquitto(t, func(port int) string {
		return fmt.Sprintf("listener %d 127.0.0.1\n%s%s%s\n", port, baseConf, userConf(), extraConf)
	}, dialTCP).addr
}

// StartMosquittoLogged is StartMosquitto that also returns Mosquitto's log
// (stdout and stderr) as it grows: with "log_type all" in extraConf it
// names every packet, which lets a test wait for what the broker did.
func StartMosquittoLogged(t testing.TB, extraConf string) (addr string, log *SyncBuffer) {
	t.Helper()
	m := startMosquitto(t, func(port int) string {
		return fmt.Sprintf("listener %d 127.0.0.1\n%s%s%s\n", port, baseConf, userConf(), extraConf)
	}, dialTCP)
	return m.addr, m.log
}

// TLSBroker describes a Mosquitto started by StartMosquittoTLS.
type TLSBroker struct {
	// Addr is the "host:port" of the TLS listener (mutual TLS required).
	Addr string
	// ServerName is the name the server certificate is valid for.
	ServerName string
	// CA signed both the server and the client certificate.
	CA *CA
	// Client is a certificate the broker accepts, with its private key.
	Client *Cert
}

// StartMosquittoTLS runs Mosquitto with a single TLS listener that requires a
// client certificate signed by a freshly generated CA. The server certificate
// is valid for "localhost" and 127.0.0.1. Skips like StartMosquitto.
func StartMosquittoTLS(t testing.TB, extraConf string) *TLSBroker {
	t.Helper()
	path := mosquittoBinary(t)
	dir := t.TempDir()
	ca := NewCA(t, "mqtttest CA")
	server := ca.Issue(t, "localhost", true)
	client := ca.Issue(t, "bridge-client", false)
	caFile := writeFile(t, dir, "ca.pem", ca.CertPEM)
	certFile := writeFile(t, dir, "server.pem", server.CertPEM)
	keyFile := writeFile(t, dir, "server-key.pem", server.KeyPEM)
	b := &TLSBroker{ServerName: "localhost", CA: ca, Client: client}
	m := startMosquittoAt(t, path, dir, func(port int) string {
		return fmt.Sprintf("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n"+
			"require_certificate true\ntls_version tlsv1.2\n%s%s%s\n",
			port, caFile, certFile, keyFile, baseConf, userConf(), extraConf)
	}, func(addr string) error {
		// The listener opens before the certificates load: only a
		// completed handshake shows the broker is ready.
		d := &net.Dialer{Timeout: time.Second}
		c, err := tls.DialWithDialer(d, "tcp", addr, b.ClientConfig())
		if err == nil {
			c.Close()
		}
		return err
	})
	b.Addr = m.addr
	return b
}

//

type mosquitto struct {
	addr   string
	cmd    *exec.Cmd
	log    *SyncBuffer
	exited chan error // receives cmd.Wait's result once
}

func startMosquitto(t testing.TB, conf func(port int) string, probe func(addr string) error) *mosquitto {
	t.Helper()
	path := mosquittoBinary(t)
	return startMosquittoAt(t, path, t.TempDir(), conf, probe)
}

// startMosquittoAt picks a free port, starts the broker and waits until it
// accepts connections. A port grabbed by someone else between the probe and
// the broker's bind makes Mosquitto exit; the next attempt uses another port.
func startMosquittoAt(t testing.TB, path, dir string, conf func(port int) string, probe func(addr string) error) *mosquitto {
	t.Helper()
	var errs []error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("mqtttest: pick a port: %v", err)
		}
		confPath := writeFile(t, dir, "mosquitto.conf", []byte(conf(port)))
		m, err := runMosquitto(path, confPath, port, probe)
		if err == nil {
			t.Cleanup(func() {
				m.stop()
				if t.Failed() {
					t.Logf("mosquitto log:\n%s", m.log.String())
				}
			})
			return m
		}
		errs = append(errs, err)
	}
	t.Fatalf("mqtttest: mosquitto did not start: %v", errors.Join(errs...))
	return nil
}

func runMosquitto(path, confPath string, port int, probe func(addr string) error) (*mosquitto, error) {
	m := &mosquitto{
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		cmd:    exec.Command(path, "-c", confPath),
		log:    &SyncBuffer{},
		exited: make(chan error, 1),
	}
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	go func() { m.exited <- m.cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-m.exited:
			return nil, fmt.Errorf("mosquitto exited (%v): %s", err, m.log.String())
		default:
		}
		if probe(m.addr) == nil {
			return m, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	m.stop()
	return nil, fmt.Errorf("mosquitto did not accept on %s: %s", m.addr, m.log.String())
}

// stop asks Mosquitto to terminate and kills it if it does not within a few
// seconds. It waits for the process, so no goroutine outlives the test.
func (m *mosquitto) stop() {
	_ = m.cmd.Process.Signal(os.Interrupt)
	select {
	case <-m.exited:
	case <-time.After(5 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
}

// mosquittoBinary returns the broker's path or skips (fails under CI).
func mosquittoBinary(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(MosquittoPath); err == nil {
		return MosquittoPath
	}
	path, err := exec.LookPath("mosquitto")
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("mqtttest: mosquitto is not installed (%s missing and not in $PATH); "+
		"install the Debian package \"mosquitto\" to run this test", MosquittoPath)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this is a failure)")
	}
	t.Skip(msg)
	return ""
}

// dialTCP is the readiness probe of a plain listener.
func dialTCP(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err
}

// userConf keeps Mosquitto from dropping root privileges to the "mosquitto"
// user, which could not read the test's temporary directory.
func userConf() string {
	if os.Geteuid() == 0 {
		return "user root\n"
	}
	return ""
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatalf("mqtttest: %v", err)
	}
	return path
}
