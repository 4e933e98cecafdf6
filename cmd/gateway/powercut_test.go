//go:build linux && (amd64 || arm64)

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline"
	"github.com/edgegw/edgegw/offline/crashfs"
)

// crashSeed fixes the random choices of the power-cut runs, so that a
// failure can be replayed; the cycle number is in every message id.
const crashSeed = 20261202

// crashSeedOr is EDGEGW_CRASH_SEED when set (to explore other runs), else def.
func crashSeedOr(t *testing.T, def uint64) uint64 {
	s := os.Getenv("EDGEGW_CRASH_SEED")
	if s == "" {
		return def
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("EDGEGW_CRASH_SEED=%q: want an unsigned integer", s)
	}
	t.Logf("seed %d", n)
	return n
}

// TestPowerCut runs the real gateway with data_dir on crashfs and cuts the
// power (kill -9, then everything not fsync'd dropped, half of the unsynced
// pages kept torn) at a random moment of each cycle, EDGEGW_CRASH_CYCLES
// times (default 50; `make crashtest CYCLES=N`). Local publishers at QoS 1
// and 2 and a simulated sensor load it while the uplink is up, down,
// blackholed or flapping, sometimes during a SIGHUP. At the end the backlog
// drains to Mosquitto and every power cut must have kept the promise: the
// store opened without quarantine, every message acknowledged to a local
// publisher reached the upstream and a local persistent session (its
// client away, or connected when the power went), no QoS 2 message arrived
// twice upstream, and each
// publisher's messages arrived there in order.
func TestPowerCut(t *testing.T) {
	r := newCrashRig(t, gatewayBin, crashSeedOr(t, crashSeed), crashfs.Options{TornWrites: 0.5})
	r.withLocal = true
	n := crashCycles(t, 50)
	for i := range n {
		r.cycle(i)
	}
	r.drain()
	r.drainLocal()
	r.report()
	t.Logf("local persistent session: connected in %d of %d cycles", r.localUp, n)
	v := r.verify()
	t.Logf("%d acknowledged messages checked upstream", v.acked)
	if v.acked == 0 {
		t.Fatal("no message was acknowledged: the load did not run")
	}
	t.Run("no acknowledged message lost", func(t *testing.T) {
		for topic, ids := range v.missing {
			t.Errorf("%s: %d acknowledged messages never reached the upstream, first %v", topic, len(ids), firstIDs(ids, 10))
			for _, id := range firstIDs(ids, 3) {
				t.Logf("%s: the upstream got, of the run of %s: %s", topic, id, r.arrivals(topic, id))
			}
		}
	})
	t.Run("no acknowledged message lost for the local persistent session", func(t *testing.T) {
		for topic, ids := range r.localMissing() {
			t.Errorf("%s: %d acknowledged messages never reached the local persistent session, first %v", topic, len(ids), firstIDs(ids, 10))
		}
	})
	t.Run("no QoS 2 duplicate", func(t *testing.T) {
		if len(v.duplicates) > 0 {
			t.Errorf("%d messages arrived more than once: %v", len(v.duplicates), firstIDs(v.duplicates, 10))
		}
	})
	for _, topic := range []string{"pub1/a", "pub2/a"} {
		t.Run("order "+topic, func(t *testing.T) {
			if bad := v.disorder[topic]; len(bad) > 0 {
				t.Errorf("%d messages arrived after a later one of their publisher: %v; %s arrived in this order: %s",
					len(bad), firstIDs(bad, 10), bad[0], r.arrivals(topic, bad[0]))
			}
		})
	}
}

// TestPowerCut_overflowAndTTL: the queue is bounded (300 messages,
// drop_oldest) and messages expire after 300 ms, so that outages overflow
// it and old messages expire while the power is cut at random. The
// overflow policy and the TTL may drop acknowledged messages, but only as
// many as the queue's drop counters (stored with the queue) say; what
// arrives arrives once (QoS 2) and in order.
//
// It found two bugs (issue 8): QoS 2 messages dropped after Mosquitto had
// PUBREC'd them kept their packet identifiers there, and once
// max_inflight_messages of them piled up Mosquitto silently refused every
// later message (quota exceeded): more missing than counted (see
// offline/orphans.go). And a QoS 1 message appended while the bridge read
// the queue could be passed by its reader and sent only after a restart
// (TestQueue_Read_deferredAppendedDuringRead). EDGEGW_CRASH_SEED=N replays
// other random runs.
func TestPowerCut_overflowAndTTL(t *testing.T) {
	r := newCrashRig(t, gatewayBin, crashSeedOr(t, crashSeed^1), crashfs.Options{TornWrites: 0.5})
	// No sensor: its readings share the queue and its counters, and a power
	// cut may take the last of them (nobody acknowledged them), so the
	// counters could not be held to the publishers' messages alone.
	cfg := crashConfig(r.proxy.Addr(), "{max_messages: 300, overflow: drop_oldest, ttl: 300ms}")
	r.p.WriteConfig(cfg[:strings.Index(cfg, "\nsensors:")+1])
	for i := range crashCycles(t, 50) / 2 {
		r.cycle(i)
	}
	r.drain()
	r.report()
	// From the backing directory, not through the mount: bbolt maps the
	// file, and a page fault on a FUSE file served by this very process can
	// deadlock with the garbage collector's stop-the-world (a run hung here).
	// The gateway has stopped: the backing file holds everything.
	st, err := offline.ReadQueueStats(filepath.Join(r.backing, "data", "gw", storeFile), "uplink", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	v := r.verify()
	missing := 0
	for topic, ids := range v.missing {
		missing += len(ids)
		t.Logf("%s: %d missing upstream, first %v", topic, len(ids), firstIDs(ids, 10))
	}
	dropped := st.Dropped[offline.DroppedExpired] + st.Dropped[offline.DroppedOverflowOldest] + st.Dropped[offline.DroppedOverflowNew]
	t.Logf("%d acknowledged, %d not upstream; the queue dropped %v, holds %d", v.acked, missing, st.Dropped, st.Messages)
	if st.Dropped[offline.DroppedExpired] == 0 || st.Dropped[offline.DroppedOverflowOldest] == 0 {
		t.Errorf("the load neither expired nor overflowed (%v): the test proves nothing", st.Dropped)
	}
	if uint64(missing) > dropped {
		t.Errorf("%d acknowledged messages missing upstream, but the queue dropped only %d (%v)", missing, dropped, st.Dropped)
	}
	if len(v.duplicates) > 0 {
		t.Errorf("QoS 2: %d messages arrived more than once: %v", len(v.duplicates), firstIDs(v.duplicates, 10))
	}
	for topic, bad := range v.disorder {
		t.Errorf("%s: %d messages arrived after a later one of their publisher: %v; %s arrived in this order: %s",
			topic, len(bad), firstIDs(bad, 10), bad[0], r.arrivals(topic, bad[0]))
	}
}

// TestPowerCut_control shows that the simulator can fail: a gateway built
// with -tags crashcontrol (bbolt never fsyncs) must lose acknowledged
// messages. The uplink is down, so every acknowledgement is a commit's.
func TestPowerCut_control(t *testing.T) {
	r := newCrashRig(t, buildControlBinary(t), crashSeed, crashfs.Options{})
	down := uplinkDown
	r.only, r.control = &down, true
	for i := range 3 {
		r.cycle(i)
	}
	r.drain()
	r.report()
	v := r.verify()
	lost := 0
	for _, ids := range v.missing {
		lost += len(ids)
	}
	t.Logf("control: %d of %d acknowledged messages lost; quarantined: %v", lost, v.acked, r.quarantined())
	if lost == 0 {
		t.Errorf("a gateway whose store never fsyncs lost none of %d acknowledged messages: the simulator cannot fail", v.acked)
	}
}

// TestPowerCut_diskFaults: the disk fills up, is remounted read-only or
// fails (EIO) for half a second in the middle of each cycle, with the uplink
// down so that every acknowledgement is a commit's; then the power is cut.
// Nothing may be acknowledged that was not durable, the gateway must take
// new messages again once the fault is gone, without a restart, and the
// store must never be quarantined.
func TestPowerCut_diskFaults(t *testing.T) {
	r := newCrashRig(t, gatewayBin, crashSeedOr(t, crashSeed), crashfs.Options{TornWrites: 0.5})
	down := uplinkDown
	r.only, r.faults = &down, []syscall.Errno{syscall.ENOSPC, syscall.EROFS, syscall.EIO}
	for i := range 6 {
		r.cycle(i)
	}
	r.drain()
	r.report()
	v := r.verify()
	t.Logf("%d acknowledged messages checked upstream", v.acked)
	for topic, ids := range v.missing {
		t.Errorf("%s: %d acknowledged messages never reached the upstream, first %v", topic, len(ids), firstIDs(ids, 10))
	}
	if len(v.duplicates) > 0 {
		t.Errorf("QoS 2: %d messages arrived more than once: %v", len(v.duplicates), firstIDs(v.duplicates, 10))
	}
}

// TestPowerCut_diskFaultReported: while the disk is full the gateway
// reports it on the metrics topic (the uplink is up): the failed commits
// and the error itself; QoS 2 messages, always written first, are not
// acknowledged meanwhile; once space is back it takes messages again by
// itself — in each of three rounds. (After failed commits bbolt's freelist
// could keep pages the failed transactions freed: a later commit panicked,
// "page already freed", and the store refused every write until a restart;
// one run in four saw it.)
func TestPowerCut_diskFaultReported(t *testing.T) {
	r := newCrashRig(t, gatewayBin, crashSeedOr(t, crashSeed), crashfs.Options{})
	metrics := mqtttest.Subscribe(t, r.mosq, "gateways/crash/metrics")
	r.setUplink(uplinkUp)
	r.p.Start()
	pub := r.startPublisher("before", "pub2/a", 2)
	if !mqtttest.Poll(10*time.Second, func() bool { return pub.count() > 0 }) {
		t.Fatal("nothing acknowledged before the fault")
	}
	var report string
	for round := range 3 {
		r.fs.SetFault(syscall.ENOSPC)
		during := r.startPublisher(fmt.Sprint("during", round), "pub2/b", 2)
		reported := round > 0 || mqtttest.Poll(15*time.Second, func() bool {
			for _, m := range metrics.Messages() {
				var doc struct {
					Store struct {
						CommitErrors uint64 `json:"commit_errors"`
						LastError    string `json:"last_error"`
					} `json:"store"`
				}
				if json.Unmarshal(m.Payload, &doc) == nil && doc.Store.CommitErrors > 0 {
					report = doc.Store.LastError
					return strings.Contains(report, "no space left")
				}
			}
			return false
		})
		if round > 0 {
			time.Sleep(time.Second) // failed commits meanwhile
		}
		acked := during.count()
		r.fs.SetFault(0)
		if !reported {
			ms := metrics.Messages()
			last := ""
			if len(ms) > 0 {
				last = string(ms[len(ms)-1].Payload)
			}
			t.Errorf("the metrics topic did not report the failed commits (last error %q); %d metrics messages, the last: %s\n%s", report, len(ms), last, r.p.LogTail(30))
		}
		if acked > 0 {
			t.Errorf("round %d: %d QoS 2 messages acknowledged while nothing could be written", round, acked)
		}
		after := r.startPublisher(fmt.Sprint("after", round), "pub2/c", 2)
		if !mqtttest.Poll(10*time.Second, func() bool { return after.count() > 0 }) {
			t.Fatalf("round %d: no publish acknowledged within 10 s of clearing the fault\n%s", round, r.p.LogTail(20))
		}
	}
	t.Logf("reported: %q", report)
}

// judge, the verdict of the power-cut runs, must see each kind of failure.
func TestPowerCut_judge(t *testing.T) {
	acked := map[string][]string{"pub1/a": {"q1c0-0", "q1c0-1", "q1c1-0"}, "pub2/a": {"q2c0-0", "q2c0-1"}}
	tests := []struct {
		name                      string
		got                       map[string][]string
		missing, dups, disordered int
	}{
		{"all there, QoS 1 duplicate allowed", map[string][]string{
			"pub1/a": {"q1c0-0", "q1c0-1", "q1c0-1", "q1c0-2", "q1c1-0"}, "pub2/a": {"q2c0-0", "q2c0-1"}}, 0, 0, 0},
		{"lost", map[string][]string{"pub1/a": {"q1c0-0", "q1c1-0"}, "pub2/a": {"q2c0-1"}}, 2, 0, 0},
		{"QoS 2 twice", map[string][]string{"pub1/a": {"q1c0-0", "q1c0-1", "q1c1-0"}, "pub2/a": {"q2c0-0", "q2c0-1", "q2c0-0"}}, 0, 1, 0},
		{"reordered", map[string][]string{"pub1/a": {"q1c0-1", "q1c0-0", "q1c1-0"}, "pub2/a": {"q2c0-0", "q2c0-1"}}, 0, 0, 1},
		{"reordered across cycles", map[string][]string{"pub1/a": {"q1c1-0", "q1c0-0", "q1c0-1"}, "pub2/a": {"q2c0-0", "q2c0-1"}}, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := judge(acked, tt.got)
			missing, disordered := 0, 0
			for _, ids := range v.missing {
				missing += len(ids)
			}
			for _, ids := range v.disorder {
				disordered += len(ids)
			}
			if v.acked != 5 || missing != tt.missing || len(v.duplicates) != tt.dups || disordered != tt.disordered {
				t.Errorf("judge: %d acked, %d missing, %d duplicates, %d out of order; want 5, %d, %d, %d",
					v.acked, missing, len(v.duplicates), disordered, tt.missing, tt.dups, tt.disordered)
			}
		})
	}
}
