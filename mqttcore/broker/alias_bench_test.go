package broker

import (
	"testing"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// BenchmarkAppendBatch is the writer's copy of 64 shared QoS 1 PUBLISHes
// (64-byte payloads) into its buffer, without and with Topic Aliases: the
// whole per-connection cost of outbound aliases.
func BenchmarkAppendBatch(b *testing.B) {
	enc, err := packet.V5.Append(nil, &packet.Publish{Topic: "bench/BenchmarkBroker_fanOut16/1733194000000000000", QoS: 1, PacketID: 1, Payload: make([]byte, 64)})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]outItem, 64)
	for i := range batch {
		batch[i] = outItem{b: enc, id: uint16(i + 1)}
	}
	for _, name := range []string{"plain", "alias"} {
		b.Run(name, func(b *testing.B) {
			var al *aliasOut
			if name == "alias" {
				al = newAliasOut(16, 16, 0)
			}
			buf := make([]byte, 0, 16<<10)
			b.SetBytes(int64(len(enc) * len(batch)))
			for b.Loop() {
				buf, _ = appendBatch(buf[:0], batch, al)
			}
		})
	}
}
