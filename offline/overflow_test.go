package offline

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestQueue_Append_overflow(t *testing.T) {
	msg := func(n int) Message { return Message{Topic: "t", Payload: []byte(strings.Repeat("x", n-1))} } // n bytes
	tests := []struct {
		name       string
		opts       QueueOptions
		sizes      []int    // bytes of each message appended, in order
		wantErr    []bool   // which appends fail with ErrFull
		wantKept   []uint64 // seqs left in the queue
		wantBytes  uint64
		wantOldest uint64 // Dropped["overflow_oldest"]
		wantNew    uint64 // Dropped["overflow_new"]
	}{{
		name:     "drop oldest by count",
		opts:     QueueOptions{MaxMessages: 3},
		sizes:    []int{10, 10, 10, 10, 10},
		wantErr:  []bool{false, false, false, false, false},
		wantKept: []uint64{3, 4, 5}, wantBytes: 30, wantOldest: 2,
	}, {
		name:     "drop new by count",
		opts:     QueueOptions{MaxMessages: 3, Overflow: DropNew},
		sizes:    []int{10, 10, 10, 10, 10},
		wantErr:  []bool{false, false, false, true, true},
		wantKept: []uint64{1, 2, 3}, wantBytes: 30, wantNew: 2,
	}, {
		name:     "drop oldest by bytes, several for one",
		opts:     QueueOptions{MaxBytes: 100},
		sizes:    []int{30, 30, 30, 70},
		wantErr:  []bool{false, false, false, false},
		wantKept: []uint64{3, 4}, wantBytes: 100, wantOldest: 2,
	}, {
		name:     "drop new by bytes, a smaller one still fits",
		opts:     QueueOptions{MaxBytes: 100, Overflow: DropNew},
		sizes:    []int{30, 30, 30, 70, 10},
		wantErr:  []bool{false, false, false, true, false},
		wantKept: []uint64{1, 2, 3, 5}, wantBytes: 100, wantNew: 1, // sequence numbers are assigned at append: the refused one had 4
	}, {
		name:     "message above MaxBytes refused under drop oldest",
		opts:     QueueOptions{MaxBytes: 100},
		sizes:    []int{50, 101},
		wantErr:  []bool{false, true},
		wantKept: []uint64{1}, wantBytes: 50, wantNew: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "q.db")
			d := openTest(t, path, Options{})
			q := openQueue(t, d, "up", tt.opts)
			for i, n := range tt.sizes {
				_, err := q.Append(context.Background(), msg(n))
				if got := errors.Is(err, ErrFull); got != tt.wantErr[i] || (err != nil && !got) {
					t.Fatalf("append %d (%d bytes): err %v, want ErrFull=%v", i, n, err, tt.wantErr[i])
				}
			}
			st := q.Stats()
			if st.Bytes != tt.wantBytes || st.Dropped[DroppedOverflowOldest] != tt.wantOldest ||
				st.Dropped[DroppedOverflowNew] != tt.wantNew || st.Dropped[DroppedExpired] != 0 {
				t.Errorf("Stats = %+v, want %d bytes, overflow_oldest %d, overflow_new %d",
					st, tt.wantBytes, tt.wantOldest, tt.wantNew)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			d = openTest(t, path, Options{})
			q = openQueue(t, d, "up", tt.opts)
			var kept []uint64
			for _, e := range readAll(t, q) {
				kept = append(kept, e.Seq)
			}
			if !slices.Equal(kept, tt.wantKept) {
				t.Errorf("after reopen the queue holds %v, want %v", kept, tt.wantKept)
			}
			if st := q.Stats(); st.Messages != uint64(len(tt.wantKept)) || st.Bytes != tt.wantBytes {
				t.Errorf("depth after reopen = %d messages, %d bytes; want %d, %d",
					st.Messages, st.Bytes, len(tt.wantKept), tt.wantBytes)
			}
			// The drop counters are stored with the queue.
			if st := q.Stats(); st.Dropped[DroppedOverflowOldest] != tt.wantOldest || st.Dropped[DroppedOverflowNew] != tt.wantNew {
				t.Errorf("drop counters after reopen = %v, want overflow_oldest %d, overflow_new %d",
					st.Dropped, tt.wantOldest, tt.wantNew)
			}
		})
	}
}

func TestParseOverflow(t *testing.T) {
	for s, want := range map[string]Overflow{"drop_oldest": DropOldest, "": DropOldest, "drop_new": DropNew} {
		if got, err := ParseOverflow(s); err != nil || got != want {
			t.Errorf("ParseOverflow(%q) = %v, %v", s, got, err)
		}
		if s != "" && want.String() != s {
			t.Errorf("%v.String() = %q", want, want.String())
		}
	}
	if _, err := ParseOverflow("drop_all"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseOverflow(drop_all) = %v, want ErrInvalid", err)
	}
}
