package offline

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// crashPathEnv passes the DB path to the crash child.
const (
	crashPathEnv  = "OFFLINE_TEST_PATH"
	crashRoundEnv = "OFFLINE_TEST_ROUND"
)

// TestQueue_crash_keepsAcknowledged runs a child process (this test binary,
// re-executed) that appends from several producers and acknowledges (Ack)
// half of what it reads, printing each append the DB acknowledged ("P seq
// producer n"), each seq it is about to Ack ("a seq") and each Ack that
// returned ("A seq"). The parent SIGKILLs it mid-burst, reopens the DB and
// checks the durability promise: every acknowledged append is there with its
// payload unless an Ack for it was called; every returned Ack removed its
// entry; per producer the order is FIFO; the persisted depth matches the
// entries. Three rounds run on the same file. One producer defers its
// commits (AppendDeferred): an entry acknowledged before its commit counts
// as delivered, one not acknowledged must be on disk once its done came.
func TestQueue_crash_keepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	appended := map[uint64]string{} // seq → payload
	acked := map[uint64]bool{}      // Ack returned
	acking := map[uint64]bool{}     // Ack called
	for round := range 3 {
		lines := runCrashChild(t, path, round, 2000+round*1500)
		for _, l := range lines {
			var seq uint64
			var p, n int
			switch {
			case strings.HasPrefix(l, "P "):
				if _, err := fmt.Sscanf(l, "P %d %d %d", &seq, &p, &n); err != nil {
					t.Fatalf("child line %q: %v", l, err)
				}
				appended[seq] = fmt.Sprintf("%d-%d", p, n)
			case strings.HasPrefix(l, "A "), strings.HasPrefix(l, "a "):
				if _, err := fmt.Sscanf(l[2:], "%d", &seq); err != nil {
					t.Fatalf("child line %q: %v", l, err)
				}
				if l[0] == 'A' {
					acked[seq] = true
				} else {
					acking[seq] = true
				}
			}
		}
		verifyAfterCrash(t, path, appended, acking, acked)
		t.Logf("round %d: %d lines from the child; %d appends, %d acks acknowledged so far",
			round, len(lines), len(appended), len(acked))
	}
}

// runCrashChild starts the child, SIGKILLs it once it printed killAfter
// lines, and returns every complete line it printed.
func runCrashChild(t *testing.T, path string, round, killAfter int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=crash", crashPathEnv+"="+path, fmt.Sprintf("%s=%d", crashRoundEnv, round))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	guard := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer guard.Stop()
	var lines []string
	r := bufio.NewReader(out)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			break // EOF; a fragment without newline is not a complete report
		}
		lines = append(lines, strings.TrimSuffix(l, "\n"))
		if len(lines) == killAfter {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	if len(lines) < killAfter {
		t.Fatalf("child printed %d lines, then ended (%v) before being killed", len(lines), err)
	}
	return lines
}

// verifyAfterCrash reopens the DB and checks it against what the child
// reported.
func verifyAfterCrash(t *testing.T, path string, appended map[uint64]string, acking, acked map[uint64]bool) {
	t.Helper()
	d, err := Open(path, Options{Logger: quietLogger})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer d.Close()
	if d.Stats().CorruptRecovered {
		t.Fatalf("file reported corrupt after kill -9: %+v", d.Stats())
	}
	q := openQueue(t, d, "up", QueueOptions{})
	st := q.Stats()
	entries := readAll(t, q)
	if uint64(len(entries)) != st.Messages {
		t.Fatalf("persisted depth %d, but %d entries are stored", st.Messages, len(entries))
	}
	stored := make(map[uint64]string, len(entries))
	lastN := map[string]int{}
	for _, e := range entries {
		stored[e.Seq] = string(e.Payload)
		var p, n int
		if _, err := fmt.Sscanf(string(e.Payload), "%d-%d", &p, &n); err != nil {
			t.Fatalf("entry %d payload %q", e.Seq, e.Payload)
		}
		if prev, ok := lastN[e.Topic]; ok && n <= prev {
			t.Fatalf("producer %s out of order: %d after %d", e.Topic, n, prev)
		}
		lastN[e.Topic] = n
	}
	for seq, payload := range appended {
		got, ok := stored[seq]
		switch {
		case acked[seq] && ok:
			t.Fatalf("seq %d: Ack returned, yet the entry is still stored", seq)
		case !acking[seq] && !ok:
			t.Fatalf("seq %d (%s): append was acknowledged, entry lost", seq, payload)
		case ok && got != payload:
			t.Fatalf("seq %d: payload %q, want %q", seq, got, payload)
		}
	}
}

// crashChild is the child process of TestQueue_crash_keepsAcknowledged. It
// never returns: the parent kills it.
func crashChild() {
	d, err := Open(os.Getenv(crashPathEnv), Options{Logger: quietLogger})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(1)
	}
	q, err := d.Queue("up", QueueOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(1)
	}
	// Payloads are "<p>-<n>" with n increasing across rounds.
	round, _ := strconv.Atoi(os.Getenv(crashRoundEnv))
	base := round * 10_000_000
	for p := range 4 {
		go crashProducer(q, fmt.Sprintf("p%d", p), p, base)
	}
	go crashSyncProducer(q, base)
	go crashDeferredProducer(q, base)
	crashAcker(q)
}

// crashDeferredProducer appends with AppendDeferred (20 ms): what the acker
// acknowledges in time is never written, the rest is committed when due.
// Its done(nil) counts as acknowledged like the others.
func crashDeferredProducer(q *Queue, base int) {
	sem := make(chan struct{}, 64)
	for n := base; ; n++ {
		sem <- struct{}{}
		q.AppendDeferred(Message{Topic: "p7", Payload: fmt.Appendf(nil, "7-%d", n), QoS: 1}, 20*time.Millisecond,
			func(seq uint64, err error) {
				if err == nil {
					fmt.Fprintf(os.Stdout, "P %d 7 %d\n", seq, n)
				}
				<-sem
			})
	}
}

// crashProducer appends asynchronously with up to 64 outstanding messages.
func crashProducer(q *Queue, topic string, p, base int) {
	sem := make(chan struct{}, 64)
	for n := base; ; n++ {
		sem <- struct{}{}
		q.AppendAsync(Message{Topic: topic, Payload: fmt.Appendf(nil, "%d-%d", p, n), QoS: 1},
			func(seq uint64, err error) {
				if err == nil {
					fmt.Fprintf(os.Stdout, "P %d %d %d\n", seq, p, n)
				}
				<-sem
			})
	}
}

// crashSyncProducer appends with Append, one at a time.
func crashSyncProducer(q *Queue, base int) {
	for n := base; ; n++ {
		seq, err := q.Append(context.Background(), Message{Topic: "p9", Payload: fmt.Appendf(nil, "9-%d", n), QoS: 2})
		if err == nil {
			fmt.Fprintf(os.Stdout, "P %d 9 %d\n", seq, n)
		}
	}
}

// crashAcker reads everything and acknowledges the entries with even seq.
func crashAcker(q *Queue) {
	var after uint64
	for {
		es, err := q.Read(context.Background(), after, 50)
		if err != nil {
			os.Exit(1)
		}
		var even []uint64
		for _, e := range es {
			if e.Seq%2 == 0 {
				even = append(even, e.Seq)
			}
		}
		after = es[len(es)-1].Seq
		for _, s := range even {
			fmt.Fprintf(os.Stdout, "a %d\n", s)
		}
		if err := q.Ack(even...); err == nil {
			for _, s := range even {
				fmt.Fprintf(os.Stdout, "A %d\n", s)
			}
		}
	}
}
