package offline

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// openReport is what the "open" child measures.
type openReport struct {
	OpenNanos             int64
	Messages              uint64
	RSSBefore, RSSAfter   int64 // VmRSS, bytes
	AnonBefore, AnonAfter int64 // RssAnon: the heap and stacks, not the page cache of the mapped file
	HeapAfter             uint64
	FirstSeq, MidSeq      uint64
}

// TestQueue_Open_million builds a queue of 1,000,000 messages, then has a
// fresh process open it, read at its head and in its middle, and report the
// time Open took and its memory; the same for a queue of 1,000 messages. It
// asserts what must hold (depth, order, anonymous memory not growing with
// depth) and logs the numbers; no timing assertion.
func TestQueue_Open_million(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1,000,000-message queue; skipped with -short")
	}
	n := uint64(1_000_000)
	if raceEnabled {
		n = 100_000 // building 1,000,000 under -race takes minutes
		t.Logf("race detector on: %d messages instead of 1,000,000", n)
	}
	dir := t.TempDir()
	small, big := filepath.Join(dir, "small.db"), filepath.Join(dir, "big.db")
	start := time.Now()
	buildQueue(t, small, 1_000)
	buildQueue(t, big, int(n))
	t.Logf("built the queues in %v", time.Since(start))
	rs, rb := runOpenChild(t, small), runOpenChild(t, big)
	fi, _ := os.Stat(big)
	t.Logf("1,000 msgs: Open %v, RSS %d→%d KiB, anon %d→%d KiB, heap %d KiB",
		time.Duration(rs.OpenNanos), rs.RSSBefore>>10, rs.RSSAfter>>10, rs.AnonBefore>>10, rs.AnonAfter>>10, rs.HeapAfter>>10)
	t.Logf("%d msgs (file %d MiB): Open %v, RSS %d→%d KiB, anon %d→%d KiB, heap %d KiB",
		n, fi.Size()>>20, time.Duration(rb.OpenNanos), rb.RSSBefore>>10, rb.RSSAfter>>10, rb.AnonBefore>>10, rb.AnonAfter>>10, rb.HeapAfter>>10)
	if rs.Messages != 1_000 || rb.Messages != n {
		t.Fatalf("depth after reopen: %d and %d, want 1000 and %d", rs.Messages, rb.Messages, n)
	}
	if rb.FirstSeq != 1 || rb.MidSeq != n/2+1 {
		t.Fatalf("reads at head and middle gave seqs %d and %d, want 1 and %d", rb.FirstSeq, rb.MidSeq, n/2+1)
	}
	growSmall, growBig := rs.AnonAfter-rs.AnonBefore, rb.AnonAfter-rb.AnonBefore
	if limit := max(4<<20, 8*int64(n)); growBig > growSmall+limit { // 8 bytes per message would be an index
		t.Errorf("anonymous memory grows with depth: +%d KiB for %d messages vs +%d KiB for 1,000",
			growBig>>10, n, growSmall>>10)
	}
}

// buildQueue appends n messages to queue "up" of a new DB at path, in
// batches, through the real write path.
func buildQueue(t *testing.T, path string, n int) {
	t.Helper()
	d := openTest(t, path, Options{MaxBatch: 8192})
	q := openQueue(t, d, "up", QueueOptions{})
	payload := []byte(strings.Repeat("x", 64))
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	window := make(chan struct{}, 2*8192) // a commit runs while the next batch gathers
	for i := range n {
		window <- struct{}{}
		wg.Add(1)
		q.AppendAsync(Message{Topic: "sensors/dev" + strconv.Itoa(i%1000) + "/temperature", Payload: payload, QoS: 1},
			func(_ uint64, err error) {
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
				<-window
				wg.Done()
			})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		t.Fatal(*err)
	}
	st := d.Stats()
	t.Logf("built %d messages: %d commits, %d MiB written", n, st.Commits, st.BytesWritten>>20)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// runOpenChild measures Open of path in a fresh process.
func runOpenChild(t *testing.T, path string) openReport {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=open", crashPathEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("open child: %v", err)
	}
	var r openReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("open child output %q: %v", out, err)
	}
	return r
}

// openChild is the child of TestQueue_Open_million: it opens the DB, reads
// 100 entries at the head and 100 in the middle, and prints an openReport.
func openChild() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "open child:", err)
		os.Exit(1)
	}
	var r openReport
	runtime.GC()
	r.RSSBefore, r.AnonBefore = procStatus("VmRSS"), procStatus("RssAnon")
	start := time.Now()
	d, err := Open(os.Getenv(crashPathEnv), Options{Logger: quietLogger})
	if err != nil {
		fail(err)
	}
	q, err := d.Queue("up", QueueOptions{})
	if err != nil {
		fail(err)
	}
	r.OpenNanos = int64(time.Since(start))
	r.Messages = q.Stats().Messages
	for i, after := range []uint64{0, r.Messages / 2} {
		es, err := q.Read(context.Background(), after, 100)
		if err != nil {
			fail(err)
		}
		if i == 0 {
			r.FirstSeq = es[0].Seq
		} else {
			r.MidSeq = es[0].Seq
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.HeapAfter = ms.HeapAlloc
	r.RSSAfter, r.AnonAfter = procStatus("VmRSS"), procStatus("RssAnon")
	if err := d.Close(); err != nil {
		fail(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fail(err)
	}
	os.Exit(0)
}

// procStatus returns a "<key>: <n> kB" field of /proc/self/status in bytes.
func procStatus(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return -1
}
