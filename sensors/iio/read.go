package iio

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/edgegw/edgegw/sensors"
)

// read returns channel c of the device in dir, named device, converted and
// named.
func (d *Dev) read(ctx context.Context, dir, device string, c channel) (sensors.Reading, error) {
	v, err := d.number(ctx, path.Join(dir, c.file))
	if err == nil && c.raw {
		v, err = d.convert(ctx, dir, c, v)
	}
	if err != nil {
		if ctx.Err() == nil {
			d.failed.Add(1)
		}
		return sensors.Reading{}, err
	}
	q, u := c.quantity(baseName(device))
	if r, ok := d.opts.Rename[c.id]; ok {
		q = r
	}
	return sensors.Reading{Quantity: q, Value: v * u.factor, Unit: u.symbol}, nil
}

// convert applies the channel's offset and scale to raw: (raw + offset) ×
// scale, a missing offset being 0 and a missing scale 1.
func (d *Dev) convert(ctx context.Context, dir string, c channel, raw float64) (float64, error) {
	offset, err := d.optional(ctx, dir, c.offset, 0)
	if err != nil {
		return 0, err
	}
	scale, err := d.optional(ctx, dir, c.scale, 1)
	if err != nil {
		return 0, err
	}
	return (raw + offset) * scale, nil
}

// optional reads file, or returns def when the device has no such file ("").
func (d *Dev) optional(ctx context.Context, dir, file string, def float64) (float64, error) {
	if file == "" {
		return def, nil
	}
	return d.number(ctx, path.Join(dir, file))
}

// number reads a value file, retrying transient errors.
func (d *Dev) number(ctx context.Context, file string) (float64, error) {
	for attempt := 0; ; attempt++ {
		b, err := fs.ReadFile(d.fsys, file)
		if err == nil {
			return parseValue(file, b)
		}
		if !transient(err) {
			return 0, err
		}
		d.transient.Add(1)
		if attempt >= d.opts.Retries {
			return 0, fmt.Errorf("%w (%d attempts)", err, attempt+1)
		}
		if err := sleep(ctx, d.opts.RetryDelay); err != nil {
			return 0, err
		}
	}
}

//

// transient reports whether err is an errno kernel drivers return for a
// read worth repeating: dht11 gives EIO (checksum, lost sync) and ETIMEDOUT
// (too few edges), bme680 EBUSY (gas measurement incomplete).
func transient(err error) bool {
	for _, e := range []syscall.Errno{syscall.EIO, syscall.ETIMEDOUT, syscall.EAGAIN, syscall.EBUSY} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// parseValue parses an IIO value: "%d", or "%d.%06u" / "%d.%09u" (and
// "-0.…") for the fractional formats.
func parseValue(file string, b []byte) (float64, error) {
	s := strings.TrimSpace(string(b))
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s holds %q", ErrBadData, file, truncate(s))
	}
	return v, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
