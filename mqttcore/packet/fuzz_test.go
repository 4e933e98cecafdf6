package packet

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// FuzzDecode decodes arbitrary (first byte, body) pairs. Properties: Decode
// never panics; a packet it returns re-encodes to exactly the input (the
// encoding is canonical), decodes again to an equal packet, and does not
// alias the input; an error wraps exactly one sentinel.
func FuzzDecode(f *testing.F) {
	seedDecode(f, goldens, wires(violations, func(v violation) []byte { return v.wire }))
	f.Fuzz(func(t *testing.T, first byte, body []byte) {
		checkRoundTrip(t, V311, first, body)
	})
}

// FuzzDecodeV5 is FuzzDecode for MQTT 5.0, whose encoding is canonical
// only after one round (properties may come in any order on the wire): a
// packet Decode returns is accepted by Append, decodes again to an equal
// packet, and encodes again to the same bytes.
func FuzzDecodeV5(f *testing.F) {
	seedDecode(f, goldens5, wires(violations5, func(v violation5) []byte { return v.wire }))
	f.Fuzz(func(t *testing.T, first byte, body []byte) {
		checkRoundTrip(t, V5, first, body)
	})
}

// checkRoundTrip checks the properties of FuzzDecode and FuzzDecodeV5.
func checkRoundTrip(t *testing.T, v Version, first byte, body []byte) {
	h := FixedHeader{Type: Type(first >> 4), Flags: first & 0x0f, Remaining: len(body)}
	p, err := v.Decode(h, body)
	if err != nil {
		checkDecodeError(t, v, p, err)
		return
	}
	enc, err := v.Append(nil, p)
	if err != nil {
		t.Fatalf("decoded %#v but Append refuses it: %v", p, err)
	}
	if want := cat([]byte{first}, appendRemaining(nil, len(body)), body); v < V5 && !bytes.Equal(enc, want) {
		t.Fatalf("re-encoding %#v\n gave % x\nwant  % x", p, enc, want)
	}
	for i := range body {
		body[i] ^= 0xff // the packet must not see this
	}
	r := bytes.NewReader(enc)
	p2, err := v.ReadPacket(r, len(enc))
	if err != nil || r.Len() != 0 {
		t.Fatalf("decoding the re-encoded % x: %v (%d bytes left)", enc, err, r.Len())
	}
	if !reflect.DeepEqual(p, p2) {
		t.Fatalf("decode(encode(p)) = %#v\nwant %#v", p2, p)
	}
	if enc2, err := v.Append(nil, p2); err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not stable: % x then % x, %v", enc, enc2, err)
	}
}

// wires returns the wire of each violation.
func wires[V any](vs []V, wire func(V) []byte) [][]byte {
	var w [][]byte
	for _, v := range vs {
		w = append(w, wire(v))
	}
	return w
}

// FuzzReader feeds arbitrary streams through a Reader in chunks of fuzzed
// sizes, with a fuzzed size limit. Properties: no panic; the Reader returns
// the same packets and errors as ReadPacket on the whole stream; its body
// buffer never exceeds the limit; I/O ends in io.EOF or io.ErrUnexpectedEOF.
func FuzzReader(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input, which is slow on
	// big ones. One publish exceeds the bufio buffer, for the body path.
	seedStream(f, goldens, wires(violations, func(v violation) []byte { return v.wire }))
	big, _ := Append(nil, &Publish{Topic: "b", Payload: make([]byte, readerBufferSize+1)})
	f.Add(cat(big, goldenWire("pingreq")), []byte{200, 255}, uint16(0))
	f.Add(cat(big, goldenWire("pingreq")), []byte{255}, uint16(readerBufferSize))
	f.Fuzz(func(t *testing.T, data, chunks []byte, maxSize uint16) {
		checkStream(t, V311, data, chunks, maxSize)
	})
}

// FuzzReaderV5 is FuzzReader for MQTT 5.0 streams.
func FuzzReaderV5(f *testing.F) {
	seedStream(f, goldens5, wires(violations5, func(v violation5) []byte { return v.wire }))
	f.Fuzz(func(t *testing.T, data, chunks []byte, maxSize uint16) {
		checkStream(t, V5, data, chunks, maxSize)
	})
}

// seedStream seeds a stream fuzz target: all golden rows in one stream,
// each twice with a limit of its size, each violation after a PINGREQ.
func seedStream(f *testing.F, gs []golden, bad [][]byte) {
	var wire []byte
	for _, g := range gs {
		wire = append(wire, g.wire...)
		f.Add(cat(g.wire, g.wire), []byte{3}, uint16(len(g.wire)))
	}
	f.Add(wire, []byte{1, 7, 255}, uint16(0))
	for _, w := range bad {
		f.Add(cat(goldenWire("pingreq"), w), []byte{2, 5}, uint16(100))
	}
}

// checkStream reads data through a Reader of version v in chunks, and
// compares each packet and error with ReadPacket's on the whole stream.
func checkStream(t *testing.T, v Version, data, chunks []byte, maxSize uint16) {
	r := NewReader(&chunkReader{data: data, sizes: chunks}, int(maxSize))
	r.SetVersion(v)
	ref := bytes.NewReader(data)
	for {
		p, err := r.Read()
		if cap(r.buf) > limit(int(maxSize)) {
			t.Fatalf("body buffer of %d bytes, limit %d", cap(r.buf), maxSize)
		}
		want, werr := v.ReadPacket(ref, int(maxSize))
		if !reflect.DeepEqual(p, want) || errString(err) != errString(werr) {
			t.Fatalf("Reader: %#v, %v\nReadPacket: %#v, %v", p, err, want, werr)
		}
		if err == nil {
			continue
		}
		if err != io.EOF && err != io.ErrUnexpectedEOF { //nolint:errorlint
			checkDecodeError(t, v, p, err)
		}
		if err != RefusedProtocolVersion { //nolint:errorlint // only that error lets the stream go on
			return
		}
	}
}

// FuzzPublish builds a PUBLISH from fuzzed fields. Properties: when Append
// accepts it, decoding gives it back; when Append refuses it, Decode refuses
// the same packet laid out by hand, with the same sentinel: the encoder and
// the decoder agree on what is valid.
func FuzzPublish(f *testing.F) {
	for _, g := range goldens {
		if p, ok := g.want.(*Publish); ok {
			f.Add(p.flags(), p.Topic, p.PacketID, p.Payload)
		}
	}
	f.Add(byte(0b0110), "t", uint16(1), []byte("x"))
	f.Add(byte(0b1000), "a/+", uint16(0), []byte(nil))
	f.Fuzz(func(t *testing.T, flags byte, topic string, id uint16, payload []byte) {
		flags &= 0x0f
		p := &Publish{Dup: flags&publishDup != 0, QoS: (flags & publishQoS) >> 1, Retain: flags&publishRetain != 0,
			Topic: topic, PacketID: id, Payload: payload}
		if p.QoS == 0 {
			p.PacketID = 0
		}
		if len(p.Payload) == 0 {
			p.Payload = nil
		}
		enc, encErr := Append(nil, p)
		if len(topic) > 0xffff {
			return // cannot be laid out by hand
		}
		body := appendString(nil, topic)
		if p.QoS > 0 {
			body = appendUint16(body, id)
		}
		body = append(body, payload...)
		got, decErr := Decode(FixedHeader{Type: PUBLISH, Flags: flags, Remaining: len(body)}, body)
		switch {
		case encErr == nil && decErr == nil:
			if !reflect.DeepEqual(got, p) || !bytes.Equal(enc[len(enc)-len(body):], body) {
				t.Fatalf("round trip: %#v\nwant %#v", got, p)
			}
		case encErr != nil && decErr != nil:
			if sentinel(encErr) != sentinel(decErr) {
				t.Fatalf("Append: %v; Decode: %v", encErr, decErr)
			}
		default:
			t.Fatalf("Append: %v; Decode: %v", encErr, decErr)
		}
	})
}

// FuzzPublishV5 builds an MQTT 5.0 PUBLISH with properties from fuzzed
// fields. Properties: when V5.Append accepts it, V5.Decode gives it back
// (the encoder accepts nothing the decoder refuses); when it refuses it,
// the error wraps exactly one sentinel.
func FuzzPublishV5(f *testing.F) {
	f.Add(byte(0b0010), "t", uint16(1), []byte("x"), byte(1), uint32(60), "text", "r/1", []byte{1}, uint32(7), uint16(0), "k", "v")
	f.Add(byte(0), "", uint16(0), []byte(nil), byte(0), uint32(0), "", "", []byte(nil), uint32(0), uint16(3), "", "")
	f.Add(byte(0), "a", uint16(0), []byte(nil), byte(2), uint32(0), "", "", []byte(nil), uint32(0), uint16(0), "", "")
	f.Add(byte(0), "a", uint16(0), []byte(nil), byte(0), uint32(0), "", "a/#", []byte(nil), uint32(0), uint16(0), "", "")
	f.Add(byte(0), "a", uint16(0), []byte(nil), byte(0), uint32(0), "\x00", "", []byte(nil), uint32(1<<28), uint16(0), "\xff", "")
	f.Fuzz(func(t *testing.T, flags byte, topic string, id uint16, payload []byte, format byte, expiry uint32,
		contentType, responseTopic string, correlation []byte, subID uint32, alias uint16, key, value string) {
		p := &Publish{Dup: flags&publishDup != 0, QoS: (flags & publishQoS) >> 1, Retain: flags&publishRetain != 0,
			Topic: topic, PacketID: id, Payload: nonEmpty(payload), Props: &Properties{PayloadFormat: format,
				MessageExpiry: expiry, ContentType: contentType, ResponseTopic: responseTopic,
				CorrelationData: nonEmpty(correlation), TopicAlias: alias}}
		if subID != 0 {
			p.Props.SubscriptionIDs = []uint32{subID}
		}
		if key != "" || value != "" {
			p.Props.User = []UserProperty{{key, value}}
		}
		if propsLen(p.Props) == 0 {
			p.Props = nil // the canonical form of no properties
		}
		enc, err := V5.Append(nil, p)
		if err != nil {
			if sentinel(err) == nil {
				t.Fatalf("V5.Append: %v wraps no single sentinel", err)
			}
			return
		}
		got, err := V5.ReadPacket(bytes.NewReader(enc), 0)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Fatalf("V5.Append gave % x, which decodes as %#v, %v\nwant %#v", enc, got, err, p)
		}
	})
}

// seedDecode seeds a (first byte, body) fuzz target with the golden rows
// and the wires of violations (whose Remaining Length is one byte).
func seedDecode(f *testing.F, gs []golden, bad [][]byte) {
	for _, g := range gs {
		_, body := splitGolden(f, g.wire)
		f.Add(g.wire[0], body)
	}
	for _, w := range bad {
		if len(w) >= 2 {
			f.Add(w[0], w[2:])
		}
	}
}

// chunkReader returns data in chunks whose sizes cycle through sizes (0 is
// read as 1; an empty sizes means whole).
type chunkReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(c.data)
	if len(c.sizes) > 0 {
		n = max(1, int(c.sizes[c.i%len(c.sizes)]))
		c.i++
	}
	n = copy(p, c.data[:min(n, len(c.data))])
	c.data = c.data[n:]
	return n, nil
}

// checkDecodeError checks a decode error of version v: exactly one
// sentinel, and no packet unless it is the CONNECT that comes with
// RefusedProtocolVersion, of a level v does not accept.
func checkDecodeError(t *testing.T, v Version, p Packet, err error) {
	t.Helper()
	if err == RefusedProtocolVersion { //nolint:errorlint
		if c, ok := p.(*Connect); !ok || supportedLevel(c.ProtocolName, c.ProtocolLevel) && c.Version() <= v {
			t.Fatalf("RefusedProtocolVersion with %#v", p)
		}
		return
	}
	if p != nil {
		t.Fatalf("packet %#v with error %v", p, err)
	}
	if sentinel(err) == nil {
		t.Fatalf("error %v wraps no sentinel", err)
	}
}

// sentinel returns the one sentinel err wraps, or nil if it wraps none or
// several.
func sentinel(err error) error {
	var found error
	for _, s := range []error{ErrMalformed, ErrProtocol, ErrTooLarge} {
		if errors.Is(err, s) {
			if found != nil {
				return nil
			}
			found = s
		}
	}
	return found
}

// errString is err.Error(), or "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
