package sgp30

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/edgegw/edgegw/internal/atomicfile"
)

// ErrBaselineSave is returned by Sense, with the readings, while the last
// attempt to store the baseline failed (the error it wraps says why).
var ErrBaselineSave = errors.New("sgp30: save baseline")

// Baseline is the state of the chip's air quality algorithm, as
// get_iaq_baseline answers it and as it is stored in the baseline file.
type Baseline struct {
	ECO2  uint16    `json:"eco2"`
	TVOC  uint16    `json:"tvoc"`
	Saved time.Time `json:"saved"`
}

// Baseline ages (datasheet section 3.8).
const (
	// MaxBaselineAge is the oldest baseline set_iaq_baseline may restore.
	MaxBaselineAge = 7 * 24 * time.Hour
	// FirstBaselineAfter is how long the chip must run before its first
	// baseline is worth keeping, when none was restored.
	FirstBaselineAfter = 12 * time.Hour
)

// BaselinePath returns the baseline file of the chip with serial number
// serial in dir.
func BaselinePath(dir string, serial uint64) string {
	return filepath.Join(dir, fmt.Sprintf("sgp30-%012x.baseline.json", serial))
}

//

// restoreBaseline sends set_iaq_baseline with the stored baseline when
// there is one younger than MaxBaselineAge (and not from the future: a
// board without a clock). A missing, unreadable or stale file starts the
// algorithm afresh; only a bus error is returned.
func (d *Dev) restoreBaseline(ctx context.Context) (restored bool, err error) {
	if d.baselineFile == "" {
		return false, nil
	}
	b, err := os.ReadFile(d.baselineFile)
	if err != nil {
		return false, nil
	}
	var bl Baseline
	if json.Unmarshal(b, &bl) != nil {
		return false, nil
	}
	if age := d.now().Sub(bl.Saved); age < 0 || age > MaxBaselineAge {
		return false, nil
	}
	// The words go in reverse order of get_iaq_baseline's answer: TVOC first.
	if err := d.dev.Command(ctx, cmdSetBaseline, bl.TVOC, bl.ECO2); err != nil {
		return false, fmt.Errorf("set_iaq_baseline: %w", err)
	}
	return true, nil
}

// saveBaseline reads the baseline and stores it atomically when it is due:
// every baselineEvery, the first time FirstBaselineAfter the start unless a
// baseline was restored. A write error is kept for Sense (and retried at
// the next due time); only a bus error is returned.
func (d *Dev) saveBaseline(ctx context.Context, restored bool, since time.Time) (time.Time, error) {
	now := d.now()
	first := FirstBaselineAfter
	if restored {
		first = d.baselineEvery
	}
	due := now.Sub(d.started) >= first && (since.IsZero() || now.Sub(since) >= d.baselineEvery)
	if d.baselineFile == "" || !due {
		return since, nil
	}
	w, err := d.read(ctx, cmdGetBaseline, 2)
	if err != nil {
		return since, fmt.Errorf("get_iaq_baseline: %w", err)
	}
	b, _ := json.Marshal(Baseline{ECO2: w[0], TVOC: w[1], Saved: now.UTC()})
	werr := atomicfile.WriteFile(d.baselineFile, b, 0o644)
	d.mu.Lock()
	d.saveErr = werr
	if werr == nil {
		d.saves++
	}
	d.mu.Unlock()
	return now, nil
}
