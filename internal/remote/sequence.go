package remote

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/edgegw/edgegw/internal/atomicfile"
)

// SequenceFile is the name, in gateway.data_dir, of the file holding the
// last accepted configuration sequence (see Sequence).
const SequenceFile = "remote-config.seq"

// Sequence is the last configuration sequence a gateway accepted, kept in a
// file (SequenceFile in data_dir) so that it survives restarts: a document
// whose sequence is not above it is a replay (ErrReplay). Accept replaces
// the file atomically and durably (WriteFile) before it returns, so a
// document accepted before a power cut stays refused after it. Sequence
// holds no state of its own: each call reads the file, so the caller
// serializes calls (the gateway's remote worker does).
type Sequence struct {
	// Path is the file. A missing file means nothing was accepted yet.
	Path string
}

// Last returns the last accepted sequence, 0 when none.
func (s Sequence) Last() (uint64, error) {
	data, err := os.ReadFile(s.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("remote: read sequence: %w", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("remote: sequence file %s is corrupt (%q): remove it to accept any sequence again", s.Path, data)
	}
	return n, nil
}

// Check returns ErrReplay, naming both sequences, when seq is not above the
// last accepted one.
func (s Sequence) Check(seq uint64) error {
	last, err := s.Last()
	if err != nil {
		return err
	}
	if seq <= last {
		return fmt.Errorf("%w: seq %d is not above %d, the last accepted: send the document again with a higher seq", ErrReplay, seq, last)
	}
	return nil
}

// Accept checks seq and records it as the last accepted one, durably.
func (s Sequence) Accept(seq uint64) error {
	if err := s.Check(seq); err != nil {
		return err
	}
	return atomicfile.WriteFile(s.Path, []byte(strconv.FormatUint(seq, 10)+"\n"), 0o600)
}
