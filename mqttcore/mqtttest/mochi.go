package mqtttest

import (
	"bytes"
	"io"
	"log/slog"
	"testing"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// StartMochi runs the mochi-mqtt broker in-process on a free port of
// 127.0.0.1 until the test ends and returns its "host:port". Every client
// and topic is allowed; its log is discarded.
func StartMochi(t testing.TB) (addr string) {
	t.Helper()
	s := mochi.New(&mochi.Options{
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		InlineClient: false,
	})
	if err := s.AddHook(new(allowAll), nil); err != nil {
		t.Fatalf("mqtttest: mochi hook: %v", err)
	}
	l := listeners.NewTCP(listeners.Config{ID: "mqtttest", Address: "127.0.0.1:0"})
	if err := s.AddListener(l); err != nil {
		t.Fatalf("mqtttest: mochi listener: %v", err)
	}
	if err := s.Serve(); err != nil {
		t.Fatalf("mqtttest: mochi serve: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return l.Address()
}

// allowAll lets every client connect and use every topic. (mochi's own
// hooks/auth package would pull in a YAML module the project does not pin.)
type allowAll struct{ mochi.HookBase }

func (*allowAll) ID() string { return "mqtttest-allow-all" }

func (*allowAll) Provides(b byte) bool {
	return bytes.Contains([]byte{mochi.OnConnectAuthenticate, mochi.OnACLCheck}, []byte{b})
}

func (*allowAll) OnConnectAuthenticate(*mochi.Client, packets.Packet) bool { return true }

func (*allowAll) OnACLCheck(*mochi.Client, string, bool) bool { return true }
