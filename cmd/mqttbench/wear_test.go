package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseProcIO(t *testing.T) {
	const sample = `rchar: 6976
wchar: 1234
syscr: 10
syscw: 7
read_bytes: 0
write_bytes: 40960
cancelled_write_bytes: 4096
`
	got, err := parseProcIO(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := ProcIO{WriteBytes: 40960, CancelledWriteBytes: 4096, Syscw: 7, Wchar: 1234}
	if got != want {
		t.Errorf("parseProcIO = %+v, want %+v", got, want)
	}
	if _, err := parseProcIO(strings.NewReader("rchar: 1\nsyscw: 2\n")); err != ErrNoIOAccounting {
		t.Errorf("no write_bytes: err = %v, want ErrNoIOAccounting", err)
	}
	if _, err := parseProcIO(strings.NewReader("write_bytes: x\nsyscw: 2\n")); err == nil {
		t.Error("write_bytes: x: no error")
	}
}

// TestReadProcIO_ownWrites writes and syncs 1 MiB from this process and
// expects /proc/self/io to show at least that much.
func TestReadProcIO_ownWrites(t *testing.T) {
	before, err := readProcIO(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const chunks, size = 16, 64 << 10
	buf := make([]byte, size)
	for i := range chunks {
		buf[0] = byte(i)
		if _, err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	after, err := readProcIO(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	d := after.Sub(before)
	if d.Syscw < chunks || d.Wchar < chunks*size {
		t.Errorf("%+v after %d writes of %d bytes: want syscw ≥ %d, wchar ≥ %d", d, chunks, size, chunks, chunks*size)
	}
	if isTmpfs(t, f.Name()) {
		t.Skip("the temporary directory is on tmpfs, which does not account write_bytes")
	}
	if d.WriteBytes < chunks*size {
		t.Errorf("write_bytes grew by %d after writing and syncing %d bytes", d.WriteBytes, chunks*size)
	}
}

func TestCountSyncs(t *testing.T) {
	const out = `101 1796223841.813751 fdatasync(7)    = 0
101 1796223841.818304 fsync(7)        = 0
102 1796223842.000001 fdatasync(7 <unfinished ...>
101 1796223842.000002 pwrite64(7, "", 0, 0) = 0
102 1796223842.100000 <... fdatasync resumed>) = 0
1796223843.500000 sync_file_range(3, 0, 0, 0) = 0
101 1796223850.000000 fsync(7)        = 0
`
	from, to := time.Unix(1796223841, 818304000), time.Unix(1796223850, 0)
	n, err := countSyncs(strings.NewReader(out), from, to)
	if err != nil {
		t.Fatal(err)
	}
	// fsync at .818304 (from is inclusive), the unfinished fdatasync, and
	// sync_file_range; not the first line (before), the resumed half, the
	// pwrite, nor the last (to is exclusive).
	if n != 3 {
		t.Errorf("countSyncs = %d, want 3", n)
	}
}

// TestStraceArgs_countsSyncs runs coreutils sync under the tool's strace
// command line: it must see exactly the sync calls made.
func TestStraceArgs_countsSyncs(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed")
	}
	dir := t.TempDir()
	file, out := filepath.Join(dir, "f"), filepath.Join(dir, "strace.out")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	from := time.Now()
	// sync -d FILE: one fdatasync.
	if b, err := exec.Command(strace, straceArgs(out, "sync", []string{"-d", file})...).CombinedOutput(); err != nil {
		t.Fatalf("strace sync: %v\n%s", err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := countSyncs(f, from, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		b, _ := os.ReadFile(out)
		t.Errorf("counted %d sync calls of `sync -d`, want 1; strace wrote:\n%s", n, b)
	}
}

func TestWearConfig_check(t *testing.T) {
	c := WearConfig{SensorWindow: time.Second, PublisherWindow: time.Second, Sensors: 1, SensorInterval: time.Second,
		Publishers: 1, Rate: 1, Workloads: []string{"w1", "W4"}}
	if err := c.check(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	if got := selectWorkloads(c.Workloads); len(got) != 2 || got[0].name != "W1" || got[1].name != "W4" {
		t.Errorf("selectWorkloads(%q) = %v", c.Workloads, got)
	}
	c.Workloads = []string{"W9"}
	if err := c.check(); err == nil || !strings.Contains(err.Error(), `"W9"`) {
		t.Errorf("unknown workload: err = %v", err)
	}
}

// TestRunWear_gateway runs W2 and W4 briefly on the real gateway (built
// from ./cmd/gateway) and W4 on Mosquitto: with the uplink down the
// gateway must write (every message goes to disk), and the tool must see
// it: nonzero write_bytes, sync calls (when strace is here), and messages.
func TestRunWear_gateway(t *testing.T) {
	mosq := mosquittoBin(t)
	gw := buildGateway(t)
	strace, _ := exec.LookPath("strace")
	c := WearConfig{Gateway: gw, Mosquitto: mosq, Strace: strace, Workloads: []string{"W2", "W4"},
		SensorWindow: 6 * time.Second, PublisherWindow: 2 * time.Second, Warmup: time.Second,
		Sensors: 10, SensorInterval: 100 * time.Millisecond, Publishers: 4, Rate: 500}
	res, errs := runWear(t.Context(), c)
	if len(errs) > 0 {
		t.Fatalf("runWear: %v", errs)
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want W2 edgegw, W4 edgegw, W4 mosquitto: %+v", len(res), res)
	}
	for _, r := range res {
		t.Logf("%s %s: %s", r.Workload, r.Broker, r.Summary())
		if r.Messages < 10 || r.Upstream != 0 {
			t.Errorf("%s %s: %d messages, %d upstream: want messages, none upstream", r.Workload, r.Broker,
				r.Messages, r.Upstream)
		}
		if r.Broker == nameEdgegw && (r.IO.WriteBytes <= 0 || r.BytesPerMsg <= 0 || (strace != "" && r.Fsyncs <= 0)) {
			t.Errorf("%s edgegw: wrote %d bytes with %d syncs with the uplink down; want both > 0",
				r.Workload, r.IO.WriteBytes, r.Fsyncs)
		}
		if r.Broker == nameMosquitto && r.SaveBytes <= 0 {
			t.Errorf("W4 mosquitto: a persistence save wrote %d bytes, want > 0", r.SaveBytes)
		}
	}
}

// TestRunWear_slowUplink runs W1-slow briefly on the real gateway: its
// bridge reaches an upstream Mosquitto through the delay gate, and the
// readings must arrive there (the uplink-up path of every workload but W2
// and W4: the upstream started, bridged to and counted).
func TestRunWear_slowUplink(t *testing.T) {
	c := WearConfig{Gateway: buildGateway(t), Mosquitto: mosquittoBin(t), Workloads: []string{"W1-slow"},
		SensorWindow: 2 * time.Second, PublisherWindow: time.Second, Warmup: time.Second,
		Sensors: 10, SensorInterval: 100 * time.Millisecond, Publishers: 1, Rate: 1, Delay: 50 * time.Millisecond}
	res, errs := runWear(t.Context(), c)
	if len(errs) > 0 {
		t.Fatalf("runWear: %v", errs)
	}
	if len(res) != 1 || res[0].Messages < 10 || res[0].Upstream < 10 || res[0].Met == nil {
		t.Fatalf("W1-slow: %+v; want one result with ≥ 10 readings, ≥ 10 of them upstream, its target judged", res)
	}
	t.Logf("%s %s: %s", res[0].Workload, res[0].Broker, res[0].Summary())
}

// buildGateway builds ./cmd/gateway into a temporary directory.
func buildGateway(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gateway")
	cmd := exec.Command("go", "build", "-o", bin, "../gateway")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ../gateway: %v\n%s", err, b)
	}
	return bin
}

// isTmpfs reports whether path is on a tmpfs.
func isTmpfs(t *testing.T, path string) bool {
	t.Helper()
	var st syscall.Statfs_t
	return syscall.Statfs(path, &st) == nil && st.Type == 0x01021994 // TMPFS_MAGIC
}

// TestDelayGate_addsLatency: an MQTT handshake through the slow link takes
// at least the delay each way, and the link still carries it.
func TestDelayGate_addsLatency(t *testing.T) {
	b := startTestMosquitto(t)
	const d = 50 * time.Millisecond
	g, err := newDelayGate(b.Addr, d)
	if err != nil {
		t.Fatal(err)
	}
	runGate(t, g)
	start := time.Now()
	nc, err := handshake(t.Context(), g.Addr(), "slow-link", 0)
	if err != nil {
		t.Fatalf("MQTT handshake through the delay gate: %v", err)
	}
	closeIdle([]net.Conn{nc})
	if rtt := time.Since(start); rtt < 2*d {
		t.Errorf("handshake took %v through a link delaying %v each way, want ≥ %v", rtt, d, 2*d)
	}
}

func TestWearReport_WriteTable(t *testing.T) {
	met := false
	r := WearResult{Workload: "W1", Description: "10 sim sensors", Broker: nameEdgegw, Window: time.Minute,
		Messages: 600, IO: ProcIO{WriteBytes: 600 * 4096, Syscw: 60}, Fsyncs: 120, SaveBytes: -1,
		Target: "≤ 20 MB/day", Met: &met}
	r.derive()
	if r.BytesPerMsg != 4096 || r.FsyncsPerSec != 2 || r.SyscwPerSec != 1 || r.MBPerDay < 3538 || r.MBPerDay > 3539 {
		t.Fatalf("derive: %+v; want 4096 B/msg, 2 fsyncs/s, 1 syscw/s, 3538.9 MB/day", r)
	}
	m := WearResult{Workload: "W4", Broker: nameMosquitto, Window: time.Second, Messages: 10, Fsyncs: -1, SaveBytes: 8192}
	rep := &WearReport{Results: []WearResult{r, m}, FsyncsCounted: true,
		Versions: map[string]string{nameMosquitto: "mosquitto version 2.0.11"}, Errors: []string{"W3, edgegw: no messages"}}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"W1  ", "4096", "3538.9", "2.0", "NO", "W4 mosquitto", "8192 B",
		"mosquitto: mosquitto version 2.0.11", "1 measurements failed:\n  W3, edgegw: no messages"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if rep.Unmet() != 1 {
		t.Errorf("Unmet() = %d, want 1", rep.Unmet())
	}
}
