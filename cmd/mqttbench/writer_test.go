package main

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgegw/edgegw/mqttcore/packet"
)

// TestWriter_coalesce writes from several goroutines and checks that the
// peer decodes every packet, then the DISCONNECT of finish, then EOF.
func TestWriter_coalesce(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	w := newWriter(client, 1024, 64)
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		w.run()
	}()

	const writers, each = 4, 500
	got := make(chan map[packet.Type]int, 1)
	go func() {
		counts := map[packet.Type]int{}
		r := packet.NewReader(server, 0)
		for {
			p, err := r.Read()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					counts[0] = -1
				}
				got <- counts
				return
			}
			counts[p.Type()]++
		}
	}()
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := w.write(&packet.Puback{PacketID: uint16(g*each + i + 1)}); err != nil {
					t.Errorf("write: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	w.finish(&packet.Disconnect{}, 5*time.Second)
	<-runDone // run closes the socket after the flush
	counts := <-got
	if counts[packet.PUBACK] != writers*each || counts[packet.DISCONNECT] != 1 || counts[0] != 0 {
		t.Errorf("peer decoded %v, want %d PUBACKs, 1 DISCONNECT, then EOF", counts, writers*each)
	}
	if err := w.write(&packet.Puback{PacketID: 1}); !errors.Is(err, errClosed) {
		t.Errorf("write after finish: %v, want errClosed", err)
	}
	w.close()
	w.close() // idempotent
}

// TestWriter_backpressure checks that writers block while the peer reads
// nothing, and that close releases them with an error.
func TestWriter_backpressure(t *testing.T) {
	client, server := net.Pipe() // synchronous: nothing is buffered
	defer server.Close()
	w := newWriter(client, 16, 64)
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		w.run()
	}()
	errs := make(chan error, 1)
	var written atomic.Int64
	go func() {
		for i := 1; i < 10000; i++ {
			if err := w.write(&packet.Puback{PacketID: uint16(i)}); err != nil {
				errs <- err
				return
			}
			written.Add(1)
		}
		errs <- nil
	}()
	// Give the writer time to fill up; it must then stay blocked.
	time.Sleep(50 * time.Millisecond)
	w.close()
	client.Close() // unblocks run's Write
	select {
	case err := <-errs:
		if err == nil {
			t.Error("10000 writes to a peer that reads nothing all succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("close did not release the blocked writer")
	}
	<-runDone
	// 16 pending bytes, plus the packet that crossed the limit, plus what
	// run took for its blocked Write: a handful of 4-byte PUBACKs.
	if n := written.Load(); n > 12 {
		t.Errorf("%d writes succeeded while the peer read nothing, want at most 12", n)
	}
}
