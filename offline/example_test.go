package offline_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/edgegw/edgegw/offline"
)

// A producer appends durably; a sender reads oldest first and acknowledges
// what the upstream confirmed.
func Example() {
	dir, err := os.MkdirTemp("", "offline-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := offline.Open(filepath.Join(dir, "queue.db"), offline.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	q, err := db.Queue("upstream", offline.QueueOptions{MaxMessages: 1_000_000, Overflow: offline.DropOldest})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	for _, v := range []string{"21.5", "21.6"} {
		if _, err := q.Append(ctx, offline.Message{Topic: "sensors/kitchen/temperature", Payload: []byte(v), QoS: 1}); err != nil {
			log.Fatal(err) // not stored: do not acknowledge the publisher
		}
	}

	entries, err := q.Read(ctx, 0, 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Printf("%d %s %s\n", e.Seq, e.Topic, e.Payload)
		// ... publish upstream, wait for PUBACK ...
		if err := q.Ack(e.Seq); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("left:", q.Stats().Messages)
	// Output:
	// 1 sensors/kitchen/temperature 21.5
	// 2 sensors/kitchen/temperature 21.6
	// left: 0
}
