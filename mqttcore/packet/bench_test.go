package packet

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchPublish is a typical sensor reading: QoS 1, a 64-byte payload.
var benchPublish = &Publish{QoS: 1, PacketID: 4242, Topic: "gw/pi-01/bme280/temperature",
	Payload: bytes.Repeat([]byte{'7'}, 64)}

func BenchmarkDecode_Publish(b *testing.B) {
	wire, _ := Append(nil, benchPublish)
	h, body := splitGolden(b, wire)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppend_Publish(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(benchPublish.Payload)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], benchPublish); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReader_Publish reads a stream of publishes through one Reader, as
// the broker does on each connection.
func BenchmarkReader_Publish(b *testing.B) {
	one, _ := Append(nil, benchPublish)
	wire := bytes.Repeat(one, 1000)
	src := bytes.NewReader(wire)
	r := NewReader(src, 1<<20)
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Read(); err == io.EOF { //nolint:errorlint
			src.Reset(wire)
			r = NewReader(src, 1<<20)
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadPacket_Publish is the unbuffered path, for comparison.
func BenchmarkReadPacket_Publish(b *testing.B) {
	one, _ := Append(nil, benchPublish)
	src := bytes.NewReader(one)
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(one)
		if _, err := ReadPacket(src, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPublishV5 is benchPublish with the properties an MQTT 5.0 sensor
// publisher might add.
var benchPublishV5 = &Publish{QoS: 1, PacketID: 4242, Topic: benchPublish.Topic, Payload: benchPublish.Payload,
	Props: &Properties{PayloadFormat: 1, MessageExpiry: 3600, ContentType: "application/json"}}

func BenchmarkDecode_PublishV5(b *testing.B) {
	for _, p := range []*Publish{benchPublish, benchPublishV5} {
		wire, _ := V5.Append(nil, p)
		h, body := splitGolden(b, wire)
		b.Run(fmt.Sprintf("props=%t", p.Props != nil), func(b *testing.B) {
			b.SetBytes(int64(len(wire)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := V5.Decode(h, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppend_PublishV5(b *testing.B) {
	for _, p := range []*Publish{benchPublish, benchPublishV5} {
		b.Run(fmt.Sprintf("props=%t", p.Props != nil), func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.SetBytes(int64(len(p.Payload)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = V5.Append(buf[:0], p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
