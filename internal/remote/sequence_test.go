package remote_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/internal/remote"
)

// TestSequence_Accept: sequences must grow; what was accepted stays
// refused for a Sequence made afresh on the same file (a restart).
func TestSequence_Accept(t *testing.T) {
	path := filepath.Join(t.TempDir(), remote.SequenceFile)
	s := remote.Sequence{Path: path}
	if last, err := s.Last(); last != 0 || err != nil {
		t.Fatalf("Last on no file = %d, %v", last, err)
	}
	for _, step := range []struct {
		seq    uint64
		replay bool
	}{{5, false}, {5, true}, {4, true}, {6, false}, {1 << 63, false}, {6, true}} {
		err := s.Accept(step.seq)
		if step.replay != errors.Is(err, remote.ErrReplay) || !step.replay && err != nil {
			t.Errorf("Accept(%d) = %v, want replay %v", step.seq, err, step.replay)
		}
	}
	restarted := remote.Sequence{Path: path}
	err := restarted.Check(6)
	if !errors.Is(err, remote.ErrReplay) || !strings.Contains(err.Error(), "seq 6 is not above 9223372036854775808") {
		t.Errorf("after a restart, Check(6) = %v, want a replay naming both", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "9223372036854775808\n" {
		t.Errorf("file holds %q", data)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := restarted.Accept(10); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt file: Accept = %v, want an error (never a silent reset)", err)
	}
}
