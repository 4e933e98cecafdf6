//go:build linux && (amd64 || arm64)

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/offline/crashfs"
)

// The power-cut harness: the real gateway binary runs with data_dir on a
// crashfs mount, under load, and is cut (kill -9, then everything not
// durable dropped) at a random moment, cycle after cycle. See
// TestPowerCut.

// Bounds of the harness; they bound a broken run, nothing asserts on them.
const (
	crashDrainWait = 2 * time.Minute // final drain of every backlog
	crashQuiet     = 5 * time.Second // the drain gives up when the upstream got nothing new for this long
	crashPubEvery  = 2 * time.Millisecond
	crashWindow    = 8 // publishes in flight per publisher
)

// crashConfig is the gateway's config for the power-cut runs: local
// publishers on pub1/# (QoS 1 upstream) and pub2/# (QoS 2 upstream), a
// simulated sensor at QoS 1, all bridged to upstream under "gw/". The local
// persistent session's queue holds every message of a long run. queue, if
// given, is the bridge's queue section (a flow mapping).
func crashConfig(upstream string, queue ...string) string {
	q := ""
	if len(queue) > 0 {
		q = "  queue: " + queue[0] + "\n"
	}
	return baseConfig + fmt.Sprintf(`  limits: {max_queued_messages: 10000000, max_queued_bytes: 1GiB}
bridge:
%s
  addresses: ["tcp://%s"]
  client_id: crash-gw
  keepalive: 2s
  reconnect: {min_delay: 50ms, max_delay: 300ms}
  topics:
    - {pattern: "pub1/#", direction: out, qos: 1, remote_prefix: "gw/"}
    - {pattern: "pub2/#", direction: out, qos: 2, remote_prefix: "gw/"}
    - {pattern: "sensors/#", direction: out, qos: 1, remote_prefix: "gw/"}
monitor: {topic_prefix: gateways/crash, metrics_interval: 1s}
sensors:
  - {name: sim, driver: sim, interval: 20ms, qos: 1, quantities: [temperature, humidity]}
`, q, upstream)
}

// uplink is what the proxy does to the bridge during one cycle.
type uplink int

const (
	uplinkUp uplink = iota
	uplinkDown
	uplinkFlapping
	uplinkBlackhole
)

var uplinkNames = [...]string{"up", "down", "flapping", "blackhole"}

func (u uplink) String() string { return uplinkNames[u] }

// crashRig is one power-cut run: Mosquitto upstream behind a fault proxy,
// an upstream subscriber recording everything, the crashfs mount and the
// gateway process on it.
type crashRig struct {
	t       *testing.T
	rng     *rand.Rand
	backing string // crashfs backing directory; data_dir is backing/data/gw
	mnt     string
	opts    crashfs.Options
	fs      *crashfs.FS
	mosq    string // the upstream Mosquitto's address
	proxy   *mqtttest.Proxy
	up      *mqtttest.Subscriber
	p       *proc

	acked  map[string][]string // topic → acknowledged ids, in publish order
	cycles []cycleReport

	// only, when set, is the uplink of every cycle; otherwise it is drawn.
	only *uplink
	// control runs expect damage: a quarantine is reported, not fatal.
	control bool
	// faults, when set, are injected in turn, one per cycle, in the middle
	// third of the load (crashfs.SetFault); a fresh publisher must then get
	// acknowledgements again.
	faults []syscall.Errno

	// withLocal adds a local persistent session (crashLocalID) subscribed
	// to what the publishers send, its client away in most cycles and
	// connected in some (see localCycle): every acknowledged message must
	// reach it too.
	withLocal bool
	localMu   sync.Mutex
	local     map[string]bool // ids the local session's client received
	localUp   int             // cycles it was connected in
}

// crashLocalID is the client id of the local persistent session.
const crashLocalID = "crash-local"

// cycleReport is what one cycle did, for the log.
type cycleReport struct {
	uplink   uplink
	sighup   bool
	startCut time.Duration // > 0: the power was also cut this long into a start
	loadFor  time.Duration
	fault    syscall.Errno
	cut      crashfs.Stats // what the power cut dropped, and the changes the fault failed
	duration time.Duration
}

// newCrashRig starts the upstream side and mounts crashfs; the gateway is
// the binary bin.
func newCrashRig(t *testing.T, bin string, seed uint64, opts crashfs.Options) *crashRig {
	t.Helper()
	crashfsAvailable(t)
	r := &crashRig{
		t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		backing: t.TempDir(), mnt: t.TempDir(), opts: opts,
		acked: map[string][]string{},
	}
	mosq := mqtttest.StartMosquitto(t, "")
	r.mosq = mosq
	r.proxy = mqtttest.NewProxy(t, mosq)
	r.up = mqtttest.Subscribe(t, mosq, "gw/pub1/#", "gw/pub2/#")
	r.mount()
	t.Cleanup(func() {
		if r.p != nil {
			r.p.Kill()
			r.saveLog()
		}
		if r.fs != nil {
			if err := r.fs.Unmount(); err != nil && err != crashfs.ErrUnmounted {
				t.Errorf("unmount crashfs: %v", err)
			}
		}
	})
	cfg := crashConfig(r.proxy.Addr())
	r.p = newProc(t, cfg)
	r.p.DataDir = filepath.Join(r.mnt, "data", "gw")
	r.p.WriteConfig(cfg)
	useBinary(t, bin)
	return r
}

// saveLog writes the gateway's whole log (every cycle) to a file kept after
// a failed test, and names it.
func (r *crashRig) saveLog() {
	if !r.t.Failed() {
		return
	}
	f, err := os.CreateTemp("", "powercut-*.log")
	if err != nil {
		r.t.Logf("save the gateway log: %v", err)
		return
	}
	defer f.Close()
	if _, err := f.WriteString(r.p.Log()); err != nil {
		r.t.Logf("save the gateway log: %v", err)
		return
	}
	r.t.Logf("the gateway's log of every cycle is in %s", f.Name())
}

// crashfsAvailable skips the test unless FUSE can be mounted (root and
// /dev/fuse); with CI set it fails instead.
func crashfsAvailable(t *testing.T) {
	t.Helper()
	if err := crashfs.Available(); err != nil && os.Getenv("CI") != "" {
		t.Fatalf("power-cut tests: %v", err)
	} else if err != nil {
		t.Skipf("power-cut tests: %v", err)
	}
}

// useBinary makes proc start bin until the test ends. The tests of this
// package do not run in parallel.
func useBinary(t *testing.T, bin string) {
	old := gatewayBin
	gatewayBin = bin
	t.Cleanup(func() { gatewayBin = old })
}

func (r *crashRig) mount() {
	r.t.Helper()
	c, err := crashfs.Mount(r.backing, r.mnt, r.opts)
	if err != nil {
		r.t.Fatal(err)
	}
	r.fs = c
}

// cycle runs the gateway under load and cuts the power at a random moment.
func (r *crashRig) cycle(n int) {
	r.t.Helper()
	start := time.Now()
	rep := cycleReport{uplink: uplink(r.rng.IntN(4)), loadFor: time.Duration(20+r.rng.IntN(500)) * time.Millisecond}
	if r.only != nil {
		rep.uplink = *r.only
	}
	r.setUplink(rep.uplink)
	fmt.Fprintf(r.p.log, "=== test harness: cycle %d: uplink %v, load %v\n", n, rep.uplink, rep.loadFor)
	if len(r.faults) == 0 && r.rng.IntN(6) == 0 {
		rep.startCut = time.Duration(1+r.rng.IntN(80)) * time.Millisecond
		r.cutDuringStart(n, rep.startCut)
	}
	r.p.Start()
	r.checkNoQuarantine(fmt.Sprintf("start of cycle %d", n))
	if r.withLocal {
		r.localCycle(n)
	}
	stopFlap := r.flap(rep.uplink)
	pubs := []*crashPublisher{
		r.startPublisher(fmt.Sprintf("q1c%d", n), "pub1/a", 1),
		r.startPublisher(fmt.Sprintf("q2c%d", n), "pub2/a", 2),
	}
	if len(r.faults) > 0 {
		rep.fault = r.faults[n%len(r.faults)]
		pubs = append(pubs, r.injectFault(n, rep.fault))
	} else {
		if r.rng.IntN(4) == 0 {
			time.Sleep(time.Duration(r.rng.IntN(int(rep.loadFor))))
			r.p.Signal(syscall.SIGHUP)
			rep.sighup = true
		}
		time.Sleep(rep.loadFor)
	}
	r.p.Kill() // the power cut takes the process with it
	stopFlap()
	for _, pub := range pubs {
		r.acked[pub.topic] = append(r.acked[pub.topic], pub.wait()...)
	}
	cut, err := r.fs.PowerCut(r.rng)
	if err != nil {
		r.t.Fatalf("cycle %d: %v", n, err)
	}
	rep.cut = cut
	fmt.Fprintf(r.p.log, "=== test harness: power cut after cycle %d: %+v\n", n, cut)
	if rep.fault != 0 && cut.Faulted == 0 {
		r.t.Fatalf("cycle %d: the %v fault failed no change: the gateway wrote nothing meanwhile", n, rep.fault)
	}
	r.mount()
	rep.duration = time.Since(start)
	r.cycles = append(r.cycles, rep)
}

// cutDuringStart starts the gateway and cuts the power d later, whether
// it is still opening its store (compacting it, recreating it), restoring
// sessions and retained messages, or already running; then mounts the
// file system again for the cycle's own start.
func (r *crashRig) cutDuringStart(n int, d time.Duration) {
	r.t.Helper()
	started := make(chan error, 1)
	go func() { started <- r.p.startOnce() }()
	time.Sleep(d)
	r.p.Kill()
	<-started  // an error: it died before READY=1, as it should
	r.p.Kill() // in case it became ready after all
	cut, err := r.fs.PowerCut(r.rng)
	if err != nil {
		r.t.Fatalf("cycle %d: power cut during start: %v", n, err)
	}
	fmt.Fprintf(r.p.log, "=== test harness: power cut %v into a start in cycle %d: %+v\n", d, n, cut)
	r.mount()
	r.checkNoQuarantine(fmt.Sprintf("after a power cut during a start in cycle %d", n))
}

// localCycle creates the local persistent session in the first cycle and
// connects its client in about a third of the others, to be cut with the
// power. (It found message ids reused after a restart: see
// TestBroker_held_idsNotReused.)
func (r *crashRig) localCycle(n int) {
	r.t.Helper()
	if n == 0 {
		r.local = map[string]bool{}
		c := r.connectLocalSession()
		c.sub("pub1/#", 1)
		c.sub("pub2/#", 2)
		c.Disconnect(0)
		return
	}
	if r.rng.IntN(3) == 0 {
		r.localUp++
		r.connectLocalSession()
	}
}

// connectLocalSession connects the local persistent session's client;
// what it receives is recorded in r.local.
func (r *crashRig) connectLocalSession() *client {
	r.t.Helper()
	c := &client{t: r.t}
	opts := paho.NewClientOptions().AddBroker("tcp://" + r.p.Addr).SetClientID(crashLocalID).
		SetCleanSession(false).SetProtocolVersion(4).SetAutoReconnect(false).SetOrderMatters(true).
		SetConnectTimeout(10 * time.Second).
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
			id, _, _ := strings.Cut(string(m.Payload()), " ")
			r.localMu.Lock()
			r.local[id] = true
			r.localMu.Unlock()
		})
	c.Client = paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(tokenWait) || tok.Error() != nil {
		r.t.Fatalf("connect the local persistent session: %v", tok.Error())
	}
	r.t.Cleanup(func() { c.Disconnect(0) })
	return c
}

// localMissing returns, per topic, the acknowledged ids the local
// persistent session's client never received.
func (r *crashRig) localMissing() map[string][]string {
	r.localMu.Lock()
	defer r.localMu.Unlock()
	out := map[string][]string{}
	for topic, ids := range r.acked {
		for _, id := range ids {
			if !r.local[id] {
				out[topic] = append(out[topic], id)
			}
		}
	}
	return out
}

// drainLocal connects the local persistent session's client until it has
// every acknowledged message or nothing new arrives for crashQuiet.
func (r *crashRig) drainLocal() {
	r.t.Helper()
	r.p.Start()
	c := r.connectLocalSession()
	last, since := -1, time.Now()
	mqtttest.Poll(crashDrainWait, func() bool {
		r.localMu.Lock()
		n := len(r.local)
		r.localMu.Unlock()
		if n != last {
			last, since = n, time.Now()
			missing := 0
			for _, ids := range r.localMissing() {
				missing += len(ids)
			}
			return missing == 0
		}
		return time.Since(since) > crashQuiet
	})
	c.Disconnect(100)
	if err := r.p.Stop(); err != nil {
		r.t.Errorf("gateway stop after the local drain: %v", err)
	}
}

// injectFault lets the load run, makes every change on the mount fail with
// errno for a while, clears it, and starts a fresh publisher (on pub1/b)
// that must be acknowledged again: the gateway recovers by itself.
func (r *crashRig) injectFault(n int, errno syscall.Errno) *crashPublisher {
	r.t.Helper()
	time.Sleep(300 * time.Millisecond)
	r.fs.SetFault(errno)
	time.Sleep(500 * time.Millisecond)
	r.fs.SetFault(0)
	pub := r.startPublisher(fmt.Sprintf("q1c%d", n), "pub1/b", 1)
	if !mqtttest.Poll(10*time.Second, func() bool { return pub.count() > 0 }) {
		r.t.Fatalf("cycle %d: no publish acknowledged within 10 s of clearing the %v fault", n, errno)
	}
	time.Sleep(200 * time.Millisecond)
	return pub
}

// setUplink puts the proxy in the cycle's starting mode.
func (r *crashRig) setUplink(u uplink) {
	switch u {
	case uplinkUp, uplinkFlapping:
		r.proxy.SetMode(mqtttest.Pass)
	case uplinkDown:
		r.proxy.SetMode(mqtttest.Reset)
	case uplinkBlackhole:
		r.proxy.SetMode(mqtttest.Blackhole)
	}
}

// flap toggles the uplink between up and reset every 30–150 ms until the
// returned function is called (for uplinkFlapping; a no-op otherwise).
func (r *crashRig) flap(u uplink) (stop func()) {
	if u != uplinkFlapping {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	periods := make([]time.Duration, 64)
	for i := range periods {
		periods[i] = time.Duration(30+r.rng.IntN(120)) * time.Millisecond
	}
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			case <-time.After(periods[i%len(periods)]):
			}
			if i%2 == 0 {
				r.proxy.SetMode(mqtttest.Reset)
			} else {
				r.proxy.SetMode(mqtttest.Pass)
			}
		}
	}()
	return func() { close(quit); <-done }
}

// checkNoQuarantine fails the test if the store was moved aside: a power
// cut must never make it corrupt.
func (r *crashRig) checkNoQuarantine(when string) {
	r.t.Helper()
	if q := r.quarantined(); len(q) > 0 && !r.control {
		r.t.Fatalf("%s: the store was quarantined (%v)\nlog:\n%s", when, q, r.p.LogTail(40))
	}
}

// quarantined lists the .corrupt- files in data_dir.
func (r *crashRig) quarantined() []string {
	q, _ := filepath.Glob(filepath.Join(r.p.DataDir, "*.corrupt-*"))
	return q
}

// drain starts the gateway with the uplink up and waits until the upstream
// has every acknowledged message, or the bound runs out (the verdict is
// verify's), then stops it.
func (r *crashRig) drain() {
	r.t.Helper()
	r.proxy.SetMode(mqtttest.Pass)
	r.p.Start()
	r.checkNoQuarantine("final drain")
	acked := 0
	for _, ids := range r.acked {
		acked += len(ids)
	}
	last, since := -1, time.Now()
	mqtttest.Poll(crashDrainWait, func() bool {
		n := r.up.Len()
		if n != last {
			last, since = n, time.Now()
			// Fewer messages upstream than acknowledged ids: some are
			// missing for sure, without comparing them all.
			return n >= acked && r.missingTotal() == 0
		}
		return time.Since(since) > crashQuiet
	})
	if err := r.p.Stop(); err != nil {
		r.t.Errorf("gateway stop after the drain: %v", err)
	}
}

// crashVerdict is what the upstream got compared with what was
// acknowledged.
type crashVerdict struct {
	acked      int
	missing    map[string][]string // topic → acknowledged ids never upstream
	duplicates []string            // QoS 2 ids upstream more than once
	disorder   map[string][]string // topic → ids whose first arrival came after a later id's
}

// verify compares the upstream's messages with the acknowledged ones.
func (r *crashRig) verify() crashVerdict { return judge(r.acked, r.upstreamIDs()) }

// judge compares got (local topic → ids the upstream received, in arrival
// order) with acked (local topic → acknowledged ids). Topics under pub2/
// are QoS 2: an id twice is a duplicate.
func judge(acked, got map[string][]string) crashVerdict {
	v := crashVerdict{missing: map[string][]string{}, disorder: map[string][]string{}}
	for topic, ids := range acked {
		v.acked += len(ids)
		seen := map[string]int{}
		for _, id := range got[topic] {
			seen[id]++
		}
		for _, id := range ids {
			if seen[id] == 0 {
				v.missing[topic] = append(v.missing[topic], id)
			}
		}
		if strings.HasPrefix(topic, "pub2/") {
			for id, n := range seen {
				if n > 1 {
					v.duplicates = append(v.duplicates, fmt.Sprintf("%s×%d", id, n))
				}
			}
		}
		if bad := outOfOrder(got[topic]); len(bad) > 0 {
			v.disorder[topic] = bad
		}
	}
	sort.Strings(v.duplicates)
	return v
}

// missingTotal counts the acknowledged messages not upstream yet.
func (r *crashRig) missingTotal() int {
	n := 0
	for _, ids := range r.verify().missing {
		n += len(ids)
	}
	return n
}

// upstreamIDs returns, per local topic, the ids of the messages the
// upstream got, in arrival order.
func (r *crashRig) upstreamIDs() map[string][]string {
	out := map[string][]string{}
	for _, m := range r.up.Messages() {
		topic := strings.TrimPrefix(m.Topic, "gw/")
		id, _, _ := strings.Cut(string(m.Payload), " ")
		out[topic] = append(out[topic], id)
	}
	return out
}

// outOfOrder returns the ids (run "q<qos>c<cycle>", "-<n>") whose first
// arrival follows the first arrival of a later id.
func outOfOrder(ids []string) []string {
	var bad []string
	first := map[string]bool{}
	var last [2]int
	for _, id := range ids {
		if first[id] {
			continue
		}
		first[id] = true
		k, ok := idKey(id)
		if !ok {
			bad = append(bad, id+" (unparsable)")
			continue
		}
		if k[0] < last[0] || (k[0] == last[0] && k[1] < last[1]) {
			bad = append(bad, id)
		}
		last = k
	}
	return bad
}

// idKey parses "q<qos>c<cycle>-<n>" into (cycle, n).
func idKey(id string) ([2]int, bool) {
	run, n, ok := strings.Cut(id, "-")
	_, cyc, ok2 := strings.Cut(run, "c")
	c, err1 := strconv.Atoi(cyc)
	i, err2 := strconv.Atoi(n)
	return [2]int{c, i}, ok && ok2 && err1 == nil && err2 == nil
}

// firstIDs returns at most n of ids.
func firstIDs(ids []string, n int) []string {
	if len(ids) > n {
		return ids[:n]
	}
	return ids
}

// arrivals returns the numbers of the messages of id's run (cycle and
// publisher) that the upstream got on topic, in arrival order: where a lost
// message should have been.
func (r *crashRig) arrivals(topic, id string) string {
	run, _, _ := strings.Cut(id, "-")
	var b strings.Builder
	for _, got := range r.upstreamIDs()[topic] {
		if n, ok := strings.CutPrefix(got, run+"-"); ok {
			b.WriteString(n + " ")
		}
	}
	return b.String()
}

// report logs a summary of the cycles.
func (r *crashRig) report() {
	var total time.Duration
	byUplink := map[uplink]int{}
	var lost, torn, sighups, faulted, startCuts int
	for _, c := range r.cycles {
		if c.startCut > 0 {
			startCuts++
		}
		faulted += c.cut.Faulted
		total += c.duration
		byUplink[c.uplink]++
		lost += c.cut.LostPages
		torn += c.cut.TornPages
		if c.sighup {
			sighups++
		}
	}
	if len(r.cycles) == 0 {
		return
	}
	r.t.Logf("%d power cuts in %v (%v per cycle), %d more during a start; uplink %v; %d SIGHUPs; %d unsynced pages dropped, %d kept torn; %d changes failed by injected faults; %d compactions",
		len(r.cycles), total.Round(time.Millisecond), (total / time.Duration(len(r.cycles))).Round(time.Millisecond),
		startCuts, byUplink, sighups, lost, torn, faulted, strings.Count(r.p.log.String(), "offline: compacted"))
}

//

// crashPublisher publishes numbered messages ("<run>-<n> <padding>") at
// QoS 1 or 2 with a small window until its connection dies, and records
// which were acknowledged (PUBACK / PUBCOMP).
type crashPublisher struct {
	topic string
	done  chan struct{}

	mu    sync.Mutex
	acked []string
}

func (r *crashRig) startPublisher(run, topic string, qos byte) *crashPublisher {
	r.t.Helper()
	c := connectLocal(r.t, r.p, clientOpts{})
	pub := &crashPublisher{topic: topic, done: make(chan struct{})}
	go pub.run(c, run, qos)
	return pub
}

func (pub *crashPublisher) run(c *client, run string, qos byte) {
	defer close(pub.done)
	type flow struct {
		id  string
		tok paho.Token
	}
	var inflight []flow
	settle := func(f flow) {
		if f.tok.WaitTimeout(tokenWait) && f.tok.Error() == nil {
			pub.mu.Lock()
			pub.acked = append(pub.acked, f.id)
			pub.mu.Unlock()
		}
	}
	tick := time.NewTicker(crashPubEvery)
	defer tick.Stop()
	for i := 0; c.IsConnectionOpen(); i++ {
		id := run + "-" + strconv.Itoa(i)
		inflight = append(inflight, flow{id, c.Publish(pub.topic, qos, false, id+" "+strings.Repeat("x", 48))})
		if len(inflight) >= crashWindow {
			settle(inflight[0])
			inflight = inflight[1:]
		}
		<-tick.C
	}
	for _, f := range inflight {
		settle(f)
	}
}

// count returns how many were acknowledged so far.
func (pub *crashPublisher) count() int {
	pub.mu.Lock()
	defer pub.mu.Unlock()
	return len(pub.acked)
}

// wait waits for the publisher to end (its connection died) and returns the
// acknowledged ids in publish order.
func (pub *crashPublisher) wait() []string {
	<-pub.done
	pub.mu.Lock()
	defer pub.mu.Unlock()
	return pub.acked
}

// buildControlBinary builds the gateway with -tags crashcontrol (bbolt
// never fsyncs) into the test's temp dir.
func buildControlBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gateway-crashcontrol")
	cmd := exec.Command("go", "build", "-tags", "crashcontrol", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags crashcontrol: %v\n%s", err, out)
	}
	return bin
}

// crashCycles is the number of power cuts of TestPowerCut: the environment
// variable EDGEGW_CRASH_CYCLES, default def.
func crashCycles(t *testing.T, def int) int {
	s := os.Getenv("EDGEGW_CRASH_CYCLES")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("EDGEGW_CRASH_CYCLES=%q: want a positive integer", s)
	}
	return n
}
