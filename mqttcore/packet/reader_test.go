package packet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// stream is every golden packet back to back, plus publishes that take the
// Reader's large-body path.
func stream(t testing.TB) ([]byte, []Packet) {
	t.Helper()
	var wire []byte
	var want []Packet
	add := func(p Packet) {
		var err error
		if wire, err = Append(wire, p); err != nil {
			t.Fatal(err)
		}
		want = append(want, p)
	}
	for _, g := range goldens {
		add(g.want)
	}
	add(&Publish{QoS: 1, PacketID: 9, Topic: "big/1", Payload: bytes.Repeat([]byte{1}, readerBufferSize+1)})
	add(&Publish{Topic: "big/2", Payload: bytes.Repeat([]byte{2}, 3*growStep+5)})
	add(&Pingreq{})
	return wire, want
}

// readAll reads packets until an error and returns them with that error.
func readAll(read func() (Packet, error)) ([]Packet, error) {
	var ps []Packet
	for {
		p, err := read()
		if err != nil {
			return ps, err
		}
		ps = append(ps, p)
	}
}

func TestReader_Read_Chunked(t *testing.T) {
	wire, want := stream(t)
	readers := []struct {
		name string
		r    func() io.Reader
	}{
		{"bytes.Reader", func() io.Reader { return bytes.NewReader(wire) }},
		{"OneByteReader", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(wire)) }},
		{"HalfReader", func() io.Reader { return iotest.HalfReader(bytes.NewReader(wire)) }},
		{"DataErrReader", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(wire)) }},
	}
	for _, rr := range readers {
		t.Run("Reader/"+rr.name, func(t *testing.T) {
			got, err := readAll(NewReader(rr.r(), 0).Read)
			if err != io.EOF { //nolint:errorlint // io.EOF is returned bare
				t.Fatalf("final error %v, want io.EOF", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %d packets, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
		})
		t.Run("ReadPacket/"+rr.name, func(t *testing.T) {
			r := rr.r()
			got, err := readAll(func() (Packet, error) { return ReadPacket(r, 0) })
			if err != io.EOF { //nolint:errorlint
				t.Fatalf("final error %v, want io.EOF", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("first difference at %d", firstDiff(got, want))
			}
		})
	}
}

// TestReader_Read_Truncated cuts the stream at every byte of its golden part:
// packets before the cut come out, then io.EOF when the cut falls between
// packets and io.ErrUnexpectedEOF when it falls inside one.
func TestReader_Read_Truncated(t *testing.T) {
	var wire []byte
	var ends []int // offset after each golden packet
	for _, g := range goldens {
		wire = append(wire, g.wire...)
		ends = append(ends, len(wire))
	}
	readers := map[string]func(io.Reader) func() (Packet, error){
		"Reader":     func(r io.Reader) func() (Packet, error) { return NewReader(r, 0).Read },
		"ReadPacket": func(r io.Reader) func() (Packet, error) { return func() (Packet, error) { return ReadPacket(r, 0) } },
	}
	for cut := 0; cut <= len(wire); cut++ {
		complete := 0 // packets wholly before the cut
		for complete < len(ends) && ends[complete] <= cut {
			complete++
		}
		boundary := cut == 0 || complete > 0 && ends[complete-1] == cut
		for name, read := range readers {
			got, err := readAll(read(iotest.HalfReader(bytes.NewReader(wire[:cut]))))
			switch {
			case boundary && err != io.EOF: //nolint:errorlint
				t.Fatalf("%s: cut %d at a boundary: %v, want io.EOF", name, cut, err)
			case !boundary && err != io.ErrUnexpectedEOF: //nolint:errorlint
				t.Fatalf("%s: cut %d inside a packet: %v, want io.ErrUnexpectedEOF", name, cut, err)
			}
			if len(got) != complete {
				t.Fatalf("%s: cut %d: %d packets, want %d", name, cut, len(got), complete)
			}
		}
	}
}

func TestReader_Read_FifthLengthByte(t *testing.T) {
	for _, wire := range [][]byte{
		{0x30, 0x80, 0x80, 0x80, 0x80, 0x00},
		{0x30, 0xff, 0xff, 0xff, 0xff, 0x7f},
		{0xc0, 0x80, 0x80, 0x80, 0x80}, // the fifth byte is not even there: refused before it is read
	} {
		_, err := NewReader(bytes.NewReader(wire), 0).Read()
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("% x: %v", wire, err)
		}
	}
	// A non-minimal but four-byte length is accepted: 0x80 0x80 0x80 0x00 is 0.
	p, err := NewReader(bytes.NewReader([]byte{0xc0, 0x80, 0x80, 0x80, 0x00}), 0).Read()
	if err != nil || p.Type() != PINGREQ {
		t.Errorf("non-minimal length: %v, %v", p, err)
	}
}

// infinite yields the same byte forever, counting what was read.
type infinite struct{ n int64 }

func (r *infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	r.n += int64(len(p))
	return len(p), nil
}

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReader_Read_MaxSizeBeforeAllocation: a packet announcing 256 MB is
// refused from its header, having allocated nothing for the body and read
// nothing past the header.
func TestReader_Read_MaxSizeBeforeAllocation(t *testing.T) {
	header := []byte{0x30, 0xff, 0xff, 0xff, 0x7f} // PUBLISH, remaining length 268,435,455
	for name, read := range map[string]func(io.Reader) error{
		"Reader":     func(r io.Reader) error { _, err := NewReader(r, 1<<20).Read(); return err },
		"ReadPacket": func(r io.Reader) error { _, err := ReadPacket(r, 1<<20); return err },
	} {
		t.Run(name, func(t *testing.T) {
			body := &infinite{}
			var err error
			n := allocated(func() { err = read(io.MultiReader(bytes.NewReader(header), body)) })
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if n > 64<<10 {
				t.Fatalf("allocated %d bytes", n)
			}
			if name == "ReadPacket" && body.n != 0 {
				t.Fatalf("read %d body bytes", body.n)
			}
		})
	}
}

// TestReader_Read_LyingLength: with no size limit, a peer that announces
// 256 MB and then sends 1000 bytes and hangs up costs memory in proportion to
// what it sent, not to what it announced.
func TestReader_Read_LyingLength(t *testing.T) {
	wire := cat([]byte{0x30, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x01, 't'}, bytes.Repeat([]byte{'p'}, 1000))
	for name, read := range map[string]func(io.Reader) error{
		"Reader":     func(r io.Reader) error { _, err := NewReader(r, 0).Read(); return err },
		"ReadPacket": func(r io.Reader) error { _, err := ReadPacket(r, 0); return err },
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			n := allocated(func() { err = read(bytes.NewReader(wire)) })
			if err != io.ErrUnexpectedEOF { //nolint:errorlint
				t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
			}
			if n > 1<<20 {
				t.Fatalf("allocated %d bytes for a 1008-byte stream", n)
			}
		})
	}
}

// TestReader_Read_BufferReuse: the Reader reuses its body buffer, and the
// packets it returned keep their own bytes.
func TestReader_Read_BufferReuse(t *testing.T) {
	p1 := &Publish{Topic: "one", Payload: bytes.Repeat([]byte{1}, readerBufferSize+100)}
	p2 := &Publish{Topic: "two", Payload: bytes.Repeat([]byte{2}, readerBufferSize+200)}
	p3 := &Publish{Topic: "three", Payload: []byte{3}}
	var wire []byte
	for _, p := range []Packet{p1, p2, p3, p3} {
		wire, _ = Append(wire, p)
	}
	r := NewReader(bytes.NewReader(wire), 0)
	got1, _ := r.Read()
	buf := r.buf[:1]
	got2, _ := r.Read()
	if &r.buf[:1][0] != &buf[0] {
		t.Fatal("body buffer not reused")
	}
	got3, _ := r.Read()
	if !reflect.DeepEqual(got1, p1) || !reflect.DeepEqual(got2, p2) || !reflect.DeepEqual(got3, p3) {
		t.Fatal("a returned packet changed when the Reader read on")
	}
	// A Read of a small publish to a known topic allocates only the
	// packet and its payload.
	allocs := testing.AllocsPerRun(1, func() { _, _ = r.Read() })
	if allocs > 2 {
		t.Fatalf("%v allocations per small PUBLISH", allocs)
	}
}

// TestReader_Read_DropsLargeBuffer: a buffer grown for one large packet is not
// kept for the life of the connection.
func TestReader_Read_DropsLargeBuffer(t *testing.T) {
	wire, _ := Append(nil, &Publish{Topic: "t", Payload: make([]byte, keepBufferSize+1)})
	wire, _ = Append(wire, &Pingreq{})
	r := NewReader(bytes.NewReader(wire), 0)
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	if r.buf != nil {
		t.Fatalf("kept a %d byte buffer", cap(r.buf))
	}
	if p, err := r.Read(); err != nil || p.Type() != PINGREQ {
		t.Fatal(p, err)
	}
}

// TestReadPacket_NoOverRead: ReadPacket leaves the bytes after the packet in
// the reader, even one without io.ByteReader.
func TestReadPacket_NoOverRead(t *testing.T) {
	src := bytes.NewReader(cat(goldenWire("publish/qos 1 retain"), []byte("rest")))
	r := iotest.OneByteReader(src) // hides io.ByteReader
	if _, ok := r.(io.ByteReader); ok {
		t.Fatal("reader is an io.ByteReader")
	}
	if _, err := ReadPacket(r, 0); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(src); string(rest) != "rest" {
		t.Fatalf("left %q", rest)
	}
}

// TestReader_Read_IOError: read errors other than EOF come out as they are.
func TestReader_Read_IOError(t *testing.T) {
	boom := errors.New("boom")
	wire := goldenWire("publish/qos 0")
	for cut := range len(wire) {
		r := io.MultiReader(bytes.NewReader(wire[:cut]), iotest.ErrReader(boom))
		if _, err := NewReader(r, 0).Read(); !errors.Is(err, boom) {
			t.Fatalf("Reader, cut %d: %v", cut, err)
		}
		r = io.MultiReader(bytes.NewReader(wire[:cut]), iotest.ErrReader(boom))
		if _, err := ReadPacket(r, 0); !errors.Is(err, boom) {
			t.Fatalf("ReadPacket, cut %d: %v", cut, err)
		}
	}
}

// firstDiff returns the index of the first packet that differs.
func firstDiff(a, b []Packet) int {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestReader_Read_TopicCache: topic names are interned per Reader, the cache
// stays bounded, and only valid names get in, so a hit needs no checks.
func TestReader_Read_TopicCache(t *testing.T) {
	var wire []byte
	for i := range 3 * topicCacheEntries {
		wire, _ = Append(wire, &Publish{Topic: fmt.Sprintf("t/%d", i%(2*topicCacheEntries))})
	}
	long := strings.Repeat("l", topicCacheNameLen+1)
	wire, _ = Append(wire, &Publish{Topic: long})
	r := NewReader(bytes.NewReader(wire), 0)
	for i := range 3 * topicCacheEntries {
		p, err := r.Read()
		if err != nil || p.(*Publish).Topic != fmt.Sprintf("t/%d", i%(2*topicCacheEntries)) {
			t.Fatalf("publish %d: %#v, %v", i, p, err)
		}
		if len(r.topics.m) > topicCacheEntries {
			t.Fatalf("cache holds %d names", len(r.topics.m))
		}
	}
	if p, err := r.Read(); err != nil || p.(*Publish).Topic != long {
		t.Fatalf("long topic: %v", err)
	}
	if _, ok := r.topics.m[long]; ok {
		t.Fatal("a name over topicCacheNameLen was cached")
	}

	// Invalid names are refused every time, cached or not.
	bad := []byte{0x30, 0x05, 0x00, 0x03, 'a', '/', '#'}
	r = NewReader(bytes.NewReader(cat(goldenWire("publish/qos 0"), bad, bad)), 0)
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := r.Read(); !errors.Is(err, ErrProtocol) {
			t.Fatalf("wildcard topic: %v", err)
		}
	}
	if len(r.topics.m) != 1 {
		t.Fatalf("cache: %v", r.topics.m)
	}
}
