package offline

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// BenchmarkQueue_Append measures durable appends (Append returns after the
// fsync) from 1, 8 and 64 concurrent producers, and reports messages per
// second, fsyncs per message and bytes written per message: group commit
// makes the last two fall as producers are added.
func BenchmarkQueue_Append(b *testing.B) {
	for _, producers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("producers=%d", producers), func(b *testing.B) {
			d := openTest(b, filepath.Join(b.TempDir(), "bench.db"), Options{})
			q := openQueue(b, d, "up", QueueOptions{})
			m := Message{Topic: "sensors/kitchen/temperature", Payload: []byte(`{"value":21.53,"unit":"°C","ts":"2024-05-01T12:00:00.000Z"}`), QoS: 1}
			before := d.Stats()
			start := time.Now()
			b.ResetTimer()
			var wg sync.WaitGroup
			for p := range producers {
				n := b.N / producers
				if p < b.N%producers {
					n++
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range n {
						if _, err := q.Append(context.Background(), m); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			reportWrites(b, d, before, time.Since(start))
		})
	}
}

// reportWrites reports rates per message of b.N messages.
func reportWrites(b *testing.B, d *DB, before DBStats, elapsed time.Duration) {
	st := d.Stats()
	n := float64(b.N)
	b.ReportMetric(n/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(st.Fsyncs-before.Fsyncs)/n, "fsyncs/msg")
	b.ReportMetric(float64(st.BytesWritten-before.BytesWritten)/n, "bytes/msg")
	b.ReportMetric(float64(st.Ops-before.Ops)/float64(max(st.Commits-before.Commits, 1)), "ops/commit")
}

// BenchmarkQueue_ReadAck measures draining: Read 256 entries, Ack them (one
// durable commit), repeat, from a queue prefilled with b.N messages.
func BenchmarkQueue_ReadAck(b *testing.B) {
	d := openTest(b, filepath.Join(b.TempDir(), "bench.db"), Options{CompactMinSize: -1})
	q := openQueue(b, d, "up", QueueOptions{})
	m := Message{Topic: "sensors/kitchen/temperature", Payload: make([]byte, 64), QoS: 1}
	var wg sync.WaitGroup
	for range b.N {
		wg.Add(1)
		q.AppendAsync(m, func(_ uint64, err error) {
			if err != nil {
				b.Error(err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	before := d.Stats()
	start := time.Now()
	b.ResetTimer()
	var after uint64
	for left := b.N; left > 0; {
		es, err := q.Read(context.Background(), after, 256)
		if err != nil {
			b.Fatal(err)
		}
		seqs := make([]uint64, len(es))
		for i, e := range es {
			seqs[i] = e.Seq
		}
		if err := q.Ack(seqs...); err != nil {
			b.Fatal(err)
		}
		after, left = seqs[len(seqs)-1], left-len(es)
	}
	b.StopTimer()
	reportWrites(b, d, before, time.Since(start))
}

// BenchmarkQueue_AppendAsync measures a producer that does not wait (like
// the broker's publish hook), with up to 4096 messages outstanding.
func BenchmarkQueue_AppendAsync(b *testing.B) {
	d := openTest(b, filepath.Join(b.TempDir(), "bench.db"), Options{})
	q := openQueue(b, d, "up", QueueOptions{})
	m := Message{Topic: "sensors/kitchen/temperature", Payload: make([]byte, 64), QoS: 1}
	window := make(chan struct{}, 4096)
	var wg sync.WaitGroup
	before := d.Stats()
	start := time.Now()
	b.ResetTimer()
	for range b.N {
		window <- struct{}{}
		wg.Add(1)
		q.AppendAsync(m, func(_ uint64, err error) {
			if err != nil {
				b.Error(err)
			}
			<-window
			wg.Done()
		})
	}
	wg.Wait()
	b.StopTimer()
	reportWrites(b, d, before, time.Since(start))
}
