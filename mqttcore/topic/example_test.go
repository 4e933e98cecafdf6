package topic_test

import (
	"fmt"

	"github.com/edgegw/edgegw/mqttcore/topic"
)

func ExampleMatch() {
	fmt.Println(topic.Match("sport/tennis/player1/#", "sport/tennis/player1"))
	fmt.Println(topic.Match("sport/+", "sport"))
	fmt.Println(topic.Match("+/+", "/finance"))
	fmt.Println(topic.Match("#", "$SYS/broker/uptime"))
	// Output:
	// true
	// false
	// true
	// false
}

func ExampleCovers() {
	fmt.Println(topic.Covers("sensors/#", "sensors/+/temp"))
	fmt.Println(topic.Covers("sensors/#", "#"))
	// Output:
	// true
	// false
}

func ExampleTrie() {
	subs := topic.NewTrie[string]()
	subs.Subscribe("sensors/#", "dashboard", 0)
	subs.Subscribe("sensors/+/temperature", "logger", 1)
	subs.Subscribe("sensors/#", "logger", 2) // overlaps: logger is visited twice

	best := map[string]byte{} // the broker delivers one copy at the max QoS [MQTT-3.3.5-1]
	subs.Match("sensors/kitchen/temperature", func(client string, qos byte) {
		best[client] = max(best[client], qos)
	})
	fmt.Println(best["dashboard"], best["logger"])
	// Output: 0 2
}

func ExampleStore() {
	retained := topic.NewStore[string]()
	retained.Set("sensors/kitchen/temperature", "21.5")
	retained.Set("sensors/hall/temperature", "19.0")
	retained.Set("$SYS/broker/uptime", "42")

	n := 0
	retained.MatchFilter("#", func(name, v string) { n++ })
	fmt.Println(n) // "#" does not reach $SYS
	// Output: 2
}
