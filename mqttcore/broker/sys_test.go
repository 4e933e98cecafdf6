package broker

import (
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestBroker_sys(t *testing.T) {
	opts := testOptions(t)
	opts.Listeners = []Listener{{Address: "127.0.0.1:0"}}
	opts.SysInterval = 100 * time.Millisecond
	opts.Version = "edgegw 1.2.3"
	var extraMu sync.Mutex
	depth := "5"
	opts.SysExtra = func() map[string]string {
		extraMu.Lock()
		defer extraMu.Unlock()
		return map[string]string{"queue/depth": depth, "uplink/state": "online"}
	}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr := runBroker(t, b)[0].String()
	c := paho(t, addr, uniqueID(t, "sys"), true)
	in := subscribe(t, c, "$SYS/#", 0)

	values := make(map[string]string)
	read := func(until func() bool) {
		t.Helper()
		deadline := time.After(wait)
		for !until() {
			select {
			case m := <-in.ch:
				values[m.Topic()] = string(m.Payload())
			case <-deadline:
				t.Fatalf("$SYS values so far: %v", values)
			}
		}
	}
	read(func() bool {
		return values["$SYS/broker/clients/connected"] == "1" && values["$SYS/gateway/queue/depth"] == "5"
	})
	checks := map[string]string{
		"$SYS/broker/version":                 `^edgegw 1\.2\.3$`,
		"$SYS/broker/uptime":                  `^\d+ seconds$`,
		"$SYS/broker/messages/received":       `^\d+$`,
		"$SYS/broker/messages/sent":           `^\d+$`,
		"$SYS/broker/publish/messages/sent":   `^\d+$`,
		"$SYS/broker/bytes/received":          `^\d+$`,
		"$SYS/broker/subscriptions/count":     `^1$`,
		"$SYS/broker/clients/auth_failures":   `^0$`,
		"$SYS/broker/heap/current":            `^[1-9]\d*$`,
		"$SYS/gateway/uplink/state":           `^online$`,
		"$SYS/broker/load/messages/sent/1min": `^\d+\.\d\d$`,
	}
	read(func() bool { // values arrive over several rounds
		for name, re := range checks {
			if !regexp.MustCompile(re).MatchString(values[name]) {
				return false
			}
		}
		return true
	})

	// Values follow the broker's state.
	paho(t, addr, uniqueID(t, "second"), true)
	extraMu.Lock()
	depth = "6"
	extraMu.Unlock()
	read(func() bool {
		return values["$SYS/broker/clients/connected"] == "2" && values["$SYS/gateway/queue/depth"] == "6"
	})
	received := func() int { n, _ := strconv.Atoi(values["$SYS/broker/messages/received"]); return n }
	before := received()
	publish(t, c, "traffic", 1, false, "x")
	read(func() bool { return received() > before && values["$SYS/broker/publish/messages/received"] == "1" })
}
