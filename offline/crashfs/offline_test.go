//go:build linux && (amd64 || arm64)

package crashfs_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/offline"
	"github.com/edgegw/edgegw/offline/crashfs"
)

// The cases the simulator found in package offline, kept as tests: the
// store is written by a child process on the mount (see TestMount_bbolt for
// why not this one), the power is cut, and the store must open from the
// backing directory without quarantine, holding every message that Append
// returned for.

// offlineHelperEnv selects a step of offlineChild: "<step>:<path>".
const offlineHelperEnv = "CRASHFS_OFFLINE_HELPER"

// runOffline runs step of offlineChild on the store at path.
func runOffline(t *testing.T, step, path string) {
	t.Helper()
	cmd := childCommand(t)
	cmd.Env = append(os.Environ(), offlineHelperEnv+"="+step+":"+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("offline step %s: %v\n%s", step, err, out)
	}
}

// offlineChild runs one step on the store at path and exits without
// closing it (as kill -9 would: every Append returned is committed).
//
//   - "append": create the data directory and the store, append 100
//     messages "m<i>";
//   - "fill": append 300 messages of 4 KiB, acknowledge all but the last
//     5 (automatic compaction off), so that half the file is free;
//   - "compact": open (which compacts the mostly free file), append 10
//     messages "after<i>".
func offlineChild(step, path string) error {
	ctx := context.Background()
	opts := offline.Options{CompactMinSize: -1, AckLinger: -1}
	if step == "compact" {
		opts.CompactMinSize = 1
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	db, err := offline.Open(path, opts)
	if err != nil {
		return err
	}
	if step == "compact" && db.Stats().Compactions != 1 {
		return fmt.Errorf("open did not compact: %+v", db.Stats())
	}
	q, err := db.Queue("up", offline.QueueOptions{})
	if err != nil {
		return err
	}
	switch step {
	case "append", "compact":
		name := map[string]string{"append": "m", "compact": "after"}[step]
		for i := range map[string]int{"append": 100, "compact": 10}[step] {
			if _, err := q.Append(ctx, offline.Message{Topic: fmt.Sprintf("%s%d", name, i), QoS: 1}); err != nil {
				return err
			}
		}
	case "fill":
		for i := range 300 {
			if _, err := q.Append(ctx, offline.Message{Topic: fmt.Sprintf("f%d", i), Payload: bytes.Repeat([]byte("p"), 4096), QoS: 1}); err != nil {
				return err
			}
		}
		es, err := q.Read(ctx, 0, 295)
		if err != nil {
			return err
		}
		seqs := make([]uint64, len(es))
		for i, e := range es {
			seqs[i] = e.Seq
		}
		if err := q.Ack(seqs...); err != nil {
			return err
		}
	}
	os.Exit(0) // no Close: the process dies
	return nil
}

// topicsAfterCut cuts the power, opens the store from the backing
// directory and returns the topics of queue "up" (failing on quarantine).
func topicsAfterCut(t *testing.T, m mounted, rel string) []string {
	t.Helper()
	m.cut(t)
	path := filepath.Join(m.backing, rel)
	db, err := offline.Open(path, offline.Options{CompactMinSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if q, _ := filepath.Glob(path + ".corrupt-*"); len(q) > 0 {
		t.Fatalf("store quarantined after the power cut: %v", q)
	}
	q, err := db.Queue("up", offline.QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := int(q.Stats().Messages)
	if n == 0 {
		return nil
	}
	es, err := q.Read(context.Background(), 0, n)
	if err != nil {
		t.Fatal(err)
	}
	var topics []string
	for _, e := range es {
		topics = append(topics, e.Topic)
	}
	return topics
}

// A store created in a new data directory must survive a power cut: bbolt
// syncs the file but not the directory entries (found by TestPowerCut:
// every message of the first cycle was lost).
func TestOffline_newStoreSurvivesPowerCut(t *testing.T) {
	m := mount(t, crashfs.Options{}, nil)
	runOffline(t, "append", filepath.Join(m.Dir(), "data", "gw", "q.db"))
	got := topicsAfterCut(t, m, "data/gw/q.db")
	if len(got) != 100 || got[0] != "m0" || got[99] != "m99" {
		t.Fatalf("after the power cut the queue holds %d messages (%v…), want m0…m99", len(got), firstIDs(got, 3))
	}
}

// A compaction's rename must be durable before the compacted file takes
// writes, and a power cut during it must leave a complete file.
func TestOffline_compactionSurvivesPowerCut(t *testing.T) {
	m := mount(t, crashfs.Options{TornWrites: 0.5}, nil)
	path := filepath.Join(m.Dir(), "q.db")
	runOffline(t, "fill", path)
	runOffline(t, "compact", path)
	got := topicsAfterCut(t, m, "q.db")
	want := "f295 f296 f297 f298 f299 after0 after1 after2 after3 after4 after5 after6 after7 after8 after9"
	if strings.Join(got, " ") != want {
		t.Fatalf("after the power cut the queue holds %d messages %v, want %s", len(got), firstIDs(got, 20), want)
	}
}

func firstIDs(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
