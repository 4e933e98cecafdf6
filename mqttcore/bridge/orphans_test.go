package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline"
)

// refuseMarks is the real queue whose disk refuses every QoS 2 PUBREC mark:
// the bridge then holds the PUBREL back, and the upstream keeps the message
// under its packet identifier, as when the power goes between a PUBREC and
// its mark.
type refuseMarks struct{ *offline.Queue }

func (refuseMarks) MarkReceivedAsync(_ uint64, done func(error)) {
	done(errors.New("test: the disk refuses the mark"))
}

// TestBridge_QoS2_orphansReleased: QoS 2 messages that reached Mosquitto
// (PUBREC sent) but were never released (the window's worth of them), and that the queue then dropped
// (here the overflow policy, after a restart; in the field also the TTL),
// keep their packet identifiers at Mosquitto, which counts them against
// the session's inflight quota (max_inflight_messages, 5 here). Once the
// quota is used up, Mosquitto answers every further QoS 1/2 PUBLISH with
// "quota exceeded" — which a 3.1.1 client reads as an ordinary PUBREC — and
// drops the message. The restarted bridge must release those identifiers
// (PUBREL) before it sends anything newer: every new message then arrives,
// in order, once, after the released old ones.
func TestBridge_QoS2_orphansReleased(t *testing.T) {
	const quota, old, fresh = 5, 8, 12
	addr, mlog := mqtttest.StartMosquittoLogged(t, fmt.Sprintf("max_inflight_messages %d\nlog_type all\n", quota))
	sub := mqtttest.Subscribe(t, addr, "gw/#")
	dir := t.TempDir()
	qo := offline.QueueOptions{MaxMessages: fresh, Overflow: offline.DropOldest}

	// 1. Old messages reach Mosquitto; no PUBREL follows; the gateway stops.
	db, q := openQueue(t, dir, qo)
	o := options(t, refuseMarks{q}, "tcp://"+addr)
	o.ShutdownTimeout = 200 * time.Millisecond
	o.Inflight = quota // as bridge.inflight must be with a 3.1.1 upstream
	r := start(t, o)
	r.awaitConnection(t)
	for i := range old {
		if err := publish(t, r.b, "c", "sensors/old", fmt.Sprint(i), 2); err != nil {
			t.Fatal(err)
		}
	}
	// The window (quota) is full of old messages Mosquitto accepted and
	// holds; the others were never sent.
	pubrecs := func() int { return strings.Count(mlog.String(), "Sending PUBREC to "+o.ClientID+" (") }
	mqtttest.WaitFor(t, func() bool { return pubrecs() >= quota }, "%d PUBRECs from Mosquitto", quota)
	if n := strings.Count(mlog.String(), "rc151"); n != 0 {
		t.Fatalf("Mosquitto refused %d old messages (quota exceeded): the test cannot tell", n)
	}
	r.stop(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countOn(sub.Messages(), "gw/sensors/old"); n != 0 {
		t.Fatalf("%d old messages delivered without a PUBREL", n)
	}

	// 2. After the restart, new messages overflow the queue before the
	// uplink returns: the old ones (queued at the start, so maybe sent)
	// are dropped, their identifiers still held upstream.
	_, q = openQueue(t, dir, qo)
	for i := range fresh {
		if _, err := q.Append(context.Background(), offline.Message{Topic: "gw/sensors/new", Payload: []byte(fmt.Sprint(i)), QoS: 2}); err != nil {
			t.Fatal(err)
		}
	}
	if d := q.Stats().Dropped[offline.DroppedOverflowOldest]; d != old {
		t.Fatalf("overflow dropped %d, want the %d old messages", d, old)
	}
	o = options(t, q, "tcp://"+addr)
	o.Inflight = quota
	r = start(t, o)
	r.awaitConnection(t)
	waitDrained(t, q)

	// Every new message arrives once, in order, after the released old ones.
	waitSequence(t, sub, "gw/sensors/new", fresh)
	msgs := sub.Messages()
	if dups := assertSequence(t, msgs, "gw/sensors/new", fresh); dups != 0 {
		t.Errorf("QoS 2: %d new messages arrived twice", dups)
	}
	lastOld, firstNew, olds := -1, -1, 0
	for i, m := range msgs {
		switch m.Topic {
		case "gw/sensors/old":
			lastOld, olds = i, olds+1
		case "gw/sensors/new":
			if firstNew < 0 {
				firstNew = i
			}
		}
	}
	if lastOld > firstNew {
		t.Errorf("a released old message arrived after a new one (positions %d, %d)", lastOld, firstNew)
	}
	st := r.b.Stats()
	if n := strings.Count(mlog.String(), "rc151"); n != 0 {
		t.Errorf("Mosquitto refused %d messages with quota exceeded", n)
	}
	if st.OrphansReleased != old {
		t.Errorf("OrphansReleased = %d, want %d", st.OrphansReleased, old)
	}
	if olds != quota {
		t.Errorf("%d old messages delivered on release, want the %d Mosquitto held", olds, quota)
	}
	mqtttest.WaitFor(t, func() bool {
		o, _, err := q.Orphans(0)
		return err == nil && len(o) == 0
	}, "orphans forgotten once released")
}
